using System.Net.WebSockets;

namespace Presence.Gateway.Connections;

/// <summary>Close codes of RFC 6455 that <see cref="WebSocketCloseStatus"/> does not name.</summary>
internal static class CloseCodes
{
    /// <summary>1012: the gateway is stopping or restarting; clients reconnect with their backoff.</summary>
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    /// <summary>1013: try again later.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;
}
