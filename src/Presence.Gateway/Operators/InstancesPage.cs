using System.Collections.Frozen;
using System.Text;

namespace Presence.Gateway.Operators;

/// <summary>
/// Serves the Instances page (plain HTML, CSS and JS embedded in this assembly) from the gateway's own
/// origin, which is the origin its WebSocket accepts browsers from by default.
/// </summary>
internal static class InstancesPage
{
    private const string ConfigPlaceholder = "{{INSTANCES_CONFIG}}";

    /// <summary>
    /// Scripts and styles only from this origin; the socket is same-origin too ('self' covers ws: and wss:
    /// of this host in CSP 3). No framing, so the page cannot be overlaid by another site.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    /// <summary>The asset paths besides the page itself, for the endpoint mapping.</summary>
    public static IEnumerable<string> AssetPaths => Assets.Value.Keys.Where(path => path != "/");

    /// <summary>Writes the asset at <paramref name="path"/> ("/" is the page); GET and HEAD only.</summary>
    public static Task ServeAsync(HttpContext context, string path)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }
        var asset = Assets.Value[path];
        var headers = response.Headers;
        headers.ContentType = asset.ContentType;
        // Always revalidated: the page must match the gateway that serves it, and the ETag makes that cheap.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentLength = asset.Bytes.Length;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(asset.Bytes, context.RequestAborted).AsTask();
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var config = InstanceRows.PageConfigJson(GatewayApp.Version);
        return new Dictionary<string, Asset>(StringComparer.Ordinal)
        {
            ["/"] = Read("instances.html", "text/html; charset=utf-8", html => html.Replace(ConfigPlaceholder, config, StringComparison.Ordinal)),
            ["/instances.js"] = Read("instances.js", "text/javascript; charset=utf-8"),
            ["/instances.css"] = Read("instances.css", "text/css; charset=utf-8"),
        }.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static Asset Read(string name, string contentType, Func<string, string>? transform = null)
    {
        var resource = $"page/{name}";
        using var stream = typeof(InstancesPage).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is missing from the gateway assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        var bytes = Encoding.UTF8.GetBytes(transform is null ? text : transform(text));
        var etag = $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes).AsSpan(0, 8))}\"";
        return new Asset(bytes, contentType, etag);
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
