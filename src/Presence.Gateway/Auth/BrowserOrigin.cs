using System.Net;
using System.Text;

namespace Presence.Gateway.Auth;

/// <summary>
/// Where a WebSocket upgrade says its page comes from: the <c>Origin</c> header (sent by browsers only), the origin
/// of the gateway's own pages as that request sees it, and whether the request came straight from this machine.
/// </summary>
/// <param name="Origin">The <c>Origin</c> header of the upgrade; browsers send one, other clients usually none.</param>
/// <param name="OwnOrigin">The origin of the gateway's own pages as this request sees it (scheme and <c>Host</c>).</param>
/// <param name="FromLocalClient">
/// The TCP peer is a loopback address and no proxy header names another client. A local proxy makes every peer
/// loopback, so a forwarded request never counts as local, whoever sent it (as in OpenClaw's <c>isLocalDirectRequest</c>).
/// </param>
internal sealed record BrowserOrigin(string? Origin, string OwnOrigin, bool FromLocalClient)
{
    /// <summary>A request straight from this machine: a loopback TCP peer, and no proxy header on the request.</summary>
    public static bool IsLocalClient(IPAddress? peer, bool hasProxyHeader) =>
        peer is not null && IPAddress.IsLoopback(peer) && !hasProxyHeader;

    /// <summary>Headers by which a proxy names the client it forwards: <c>Forwarded</c>, <c>X-Forwarded-*</c>, <c>X-Real-IP</c>.</summary>
    public static bool IsProxyHeader(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "Forwarded"u8)
        || Ascii.EqualsIgnoreCase(name, "X-Real-IP"u8)
        || (name.Length >= "X-Forwarded-".Length && Ascii.EqualsIgnoreCase(name[.."X-Forwarded-".Length], "X-Forwarded-"u8));
}
