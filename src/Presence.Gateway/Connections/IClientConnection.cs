using System.Net;
using System.Net.WebSockets;
using Presence.Actors.Domain;

namespace Presence.Gateway.Connections;

/// <summary>
/// Who is on the other end of a connection, as its opening handshake told: <c>Origin</c> is the upgrade's
/// Origin header (sent by browsers only), <c>OwnOrigin</c> the origin of the gateway's own pages as the browser sees it,
/// <c>FromLocalClient</c> whether the upgrade came straight from this machine (<see cref="Auth.BrowserOrigin.IsLocalClient"/>).
/// </summary>
internal sealed record PeerInfo(ConnectionId Id, IPAddress? RemoteAddress, string? Origin, string OwnOrigin, bool FromLocalClient = false)
{
    public Auth.BrowserOrigin Browser => new(Origin, OwnOrigin, FromLocalClient);
}

/// <summary>
/// A client connection as its <see cref="ConnectionActor"/> and the supervisor's fan-out see it: where
/// frames go, and how it is closed. The transport behind it is outside the actors and never blocks them;
/// the actor specs put a recording fake in its place.
/// </summary>
internal interface IClientConnection
{
    PeerInfo Info { get; }

    /// <summary>Queues a frame; a reader too far behind to take it is closed as a slow consumer (1008).</summary>
    void Send(OutboundFrame frame);

    /// <summary>Queues a presence list; a newer one replaces it while it is unsent.</summary>
    void OfferPresence(OutboundFrame frame);

    /// <summary>Queues a close after what is already queued; the first close wins, even over one the client sends at the same moment.</summary>
    void Close(WebSocketCloseStatus status, string reason);

    /// <summary>After hello-ok the client may send up to <paramref name="maxPayload"/> bytes per message.</summary>
    void HandshakeCompleted(int maxPayload);

    /// <summary>The actor has handled one inbound frame: the socket may read further.</summary>
    void FrameHandled();

    /// <summary>
    /// Sends a keep-alive ping. False, and the socket is dropped, when nothing came from the client
    /// since the previous ping: a live client answers each ping before the next one.
    /// </summary>
    bool Ping();
}
