using System.Net;

namespace Presence.Gateway.Network;

/// <summary>Who is at the other end of a request, as far as the gateway can believe it.</summary>
/// <param name="Address">The client's address: the TCP peer's, or the one a trusted proxy forwarded.</param>
/// <param name="Scheme">http or https as the client used it (a TLS-terminating proxy forwards https).</param>
public sealed record ClientAddress(IPAddress? Address, string Scheme)
{
    /// <summary>
    /// Resolves the client behind <paramref name="peer"/>. Only when the peer is a trusted proxy are <c>Forwarded</c>
    /// (RFC 7239; it wins when both are present) and <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> read: the
    /// chain is walked from the nearest hop outwards, past further trusted proxies, and the first other hop is the
    /// client (a client can prepend anything, but cannot change what the proxies appended after it). A forwarded
    /// loopback address is returned as it is, so the loopback rule drops it from presence like a direct one.
    /// A chain that names no usable address leaves the peer as the client.
    /// </summary>
    /// <remarks>
    /// ASP.NET Core's ForwardedHeadersMiddleware does the X-Forwarded-* half of this, but it reads no RFC 7239
    /// <c>Forwarded</c> header and trusts loopback by default, where the gateway trusts nothing unless configured.
    /// </remarks>
    /// <param name="peer">The TCP peer's address.</param>
    /// <param name="scheme">http or https, as the peer connected.</param>
    /// <param name="headers">The request's forwarding headers, each with its repeated lines joined by commas.</param>
    /// <param name="trusted">The proxies whose headers are believed.</param>
    public static ClientAddress Resolve(IPAddress? peer, string scheme, ForwardingHeaders headers, TrustedProxies trusted)
    {
        if (peer is null || trusted.IsEmpty || !trusted.Contains(peer))
            return new ClientAddress(peer, scheme);
        var hops = !string.IsNullOrWhiteSpace(headers.Forwarded)
            ? ForwardedHops(headers.Forwarded)
            : ForwardedForHops(headers.ForwardedFor, headers.ForwardedProto);
        for (var i = hops.Count - 1; i >= 0; i--)
        {
            var (address, proto) = hops[i];
            if (address is null)
                break;
            if (i > 0 && trusted.Contains(address))
                continue;
            return new ClientAddress(TrustedProxies.Normalize(address), proto ?? scheme);
        }
        return new ClientAddress(peer, scheme);
    }

    /// <summary><c>for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"</c>: one hop per element, oldest first.</summary>
    private static List<(IPAddress? Address, string? Proto)> ForwardedHops(string header)
    {
        var hops = new List<(IPAddress?, string?)>();
        foreach (var element in Elements(header))
        {
            IPAddress? address = null;
            string? proto = null;
            foreach (var pair in element.Split(';', StringSplitOptions.TrimEntries))
            {
                var (name, value) = pair.Split('=', 2) is [var n, var v] ? (n.Trim(), v.Trim().Trim('"')) : (pair, "");
                if (name.Equals("for", StringComparison.OrdinalIgnoreCase))
                    address = Node(value);
                else if (name.Equals("proto", StringComparison.OrdinalIgnoreCase))
                    proto = SchemeOf(value);
            }
            hops.Add((address, proto));
        }
        return hops;
    }

    /// <summary><c>X-Forwarded-For: client, proxy1</c> with <c>X-Forwarded-Proto</c> lined up from the nearest hop.</summary>
    private static List<(IPAddress? Address, string? Proto)> ForwardedForHops(string? forwardedFor, string? forwardedProto)
    {
        var addresses = Elements(forwardedFor);
        var protos = Elements(forwardedProto);
        var hops = new List<(IPAddress?, string?)>(addresses.Length);
        for (var i = 0; i < addresses.Length; i++)
        {
            var fromNearest = addresses.Length - 1 - i;
            var proto = fromNearest < protos.Length ? SchemeOf(protos[protos.Length - 1 - fromNearest]) : null;
            hops.Add((Node(addresses[i]), proto));
        }
        return hops;
    }

    private static string[] Elements(string? header) =>
        (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>An address with or without a port (<c>192.0.2.60:4711</c>, <c>[2001:db8::17]:4711</c>, <c>::1</c>); null for <c>unknown</c> and obfuscated names.</summary>
    private static IPAddress? Node(string value) =>
        IPAddress.TryParse(value, out var address) ? address
        : IPEndPoint.TryParse(value, out var endPoint) ? endPoint.Address
        : null;

    private static string? SchemeOf(string value) =>
        value.Equals("https", StringComparison.OrdinalIgnoreCase) ? "https"
        : value.Equals("http", StringComparison.OrdinalIgnoreCase) ? "http"
        : null;
}

/// <summary>The headers a reverse proxy adds to name the client, as one request carried them (null when absent).</summary>
/// <param name="Forwarded">RFC 7239 <c>Forwarded</c>.</param>
/// <param name="ForwardedFor"><c>X-Forwarded-For</c>.</param>
/// <param name="ForwardedProto"><c>X-Forwarded-Proto</c>.</param>
public sealed record ForwardingHeaders(string? Forwarded, string? ForwardedFor, string? ForwardedProto);
