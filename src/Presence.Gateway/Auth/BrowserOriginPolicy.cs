using System.Collections.Immutable;
using System.Net;
using System.Text.RegularExpressions;

namespace Presence.Gateway.Auth;

/// <summary>
/// Which browser pages may open a gateway session, decided as OpenClaw's gateway does (<c>checkBrowserOrigin</c>):
/// the configured allow-list (<c>*</c> allows any), the gateway's own origin, and a page on a loopback origin
/// (<c>http://127.0.0.1:5173</c>, <c>http://localhost:5173</c>, <c>http://[::1]:8080</c>) when the request itself
/// comes from this machine, so the Control UI served by a local dev server works with no configuration.
/// Nothing else is allowed by default.
/// </summary>
internal static partial class BrowserOriginPolicy
{
    public const string MissingOrInvalid = "origin missing or invalid";
    public const string NotAllowed = "origin not allowed";

    /// <summary>Client ids that are browser pages: they must send an <c>Origin</c> the policy allows.</summary>
    private static readonly ImmutableHashSet<string> BrowserClientIds =
        ImmutableHashSet.Create(StringComparer.Ordinal, "openclaw-control-ui", "openclaw-browser-copilot", "webchat-ui", "webchat");

    /// <summary>
    /// Null when the connect may go on; otherwise the <c>details.reason</c> OpenClaw gives:
    /// <c>origin missing or invalid</c> or <c>origin not allowed</c>.
    /// </summary>
    public static string? Refusal(BrowserOrigin request, string clientId, IReadOnlyCollection<string> allowedOrigins)
    {
        if (request.Origin is null)
            return BrowserClientIds.Contains(clientId) ? MissingOrInvalid : null;
        if (Parse(request.Origin) is not { } origin)
            return MissingOrInvalid;
        if (allowedOrigins.Any(allowed => allowed == "*" || string.Equals(Normalize(allowed), origin.Normalized, StringComparison.Ordinal)))
            return null;
        if (string.Equals(origin.Normalized, Normalize(request.OwnOrigin), StringComparison.Ordinal))
            return null;
        if (request.FromLocalClient && IsLoopbackHost(origin.Uri.Host))
            return null;
        return NotAllowed;
    }

    /// <summary>An origin is <c>scheme://host[:port]</c> and nothing more (no path, query, credentials); <c>null</c> is none.</summary>
    private static (Uri Uri, string Normalized)? Parse(string raw)
    {
        var trimmed = raw.Trim();
        if (!OriginShape().IsMatch(trimmed) || !Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || uri.UserInfo.Length > 0)
            return null;
        return (uri, Normalize(uri));
    }

    [GeneratedRegex(@"^[a-z][a-z0-9+.-]*://[^/?#\\]+/?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OriginShape();

    private static string Normalize(string origin) =>
        Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri) ? Normalize(uri) : origin.Trim().ToLowerInvariant();

    /// <summary>The origin as a browser serialises it: lower case, default port left out.</summary>
    private static string Normalize(Uri uri) => uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();

    private static bool IsLoopbackHost(string host) =>
        host.TrimEnd('.').Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
