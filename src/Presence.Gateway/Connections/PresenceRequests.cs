using Akka.Actor;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Operators;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Connections;

/// <summary>
/// The two requests that make most of an authenticated operator's traffic, <c>system-event</c> and
/// <c>system-presence</c>, answered without the connection's actor state. Its
/// <see cref="GatewaySocket"/>'s read loop answers them itself while the actor has no frame queued
/// ahead of them, which saves the actor's mailbox hop; the actor answers them with the same code otherwise.
/// Each flag says whether the client may make that request (an operator with the admin or the read scope);
/// any other caller gets its error from the actor. <see cref="Sender"/> is the connection's client when it has a row:
/// a beacon naming it updates that row.
/// </summary>
internal sealed record PresenceRequests(IActorRef Manager, ConnectionOptions Options, bool MayWrite, bool MayRead, ConnectedClient? Sender)
{
    private static readonly ReadOnlyMemory<byte> BeaconAccepted = "{\"ok\":true}"u8.ToArray();

    /// <summary>The answer, or null when the caller must go the long way (not allowed here, or the list must be asked for).</summary>
    public OutboundFrame? TryAnswer(RequestFrame request) => request.Method switch
    {
        "system-event" when MayWrite => AcceptBeacon(request),
        "system-presence" when MayRead => TryAnswerPresence(request),
        _ => null,
    };

    public OutboundFrame AcceptBeacon(RequestFrame request)
    {
        if (!SystemEventValidator.TryValidate(request.Params, out var beacon, out var invalid))
            return ServerFrames.Error(request.Id, GatewayErrors.InvalidSystemEventParams(invalid!));
        var (key, update) = beacon!.Resolve(Sender);
        Options.Board.Tell(Manager, new PresenceCommands.Upsert(key, update));
        GatewayMetrics.BeaconAccepted();
        // The reply never waits for the presence fan-out.
        return ServerFrames.Ok(request.Id, BeaconAccepted);
    }

    /// <summary>The published list, or null when only the manager can answer (a write still on its way, or a row to expire).</summary>
    public OutboundFrame? TryAnswerPresence(RequestFrame request) =>
        Options.Board.TryRead(Options.Clock.Now.ToUnixTimeMilliseconds(), out var snapshot) ? ServerFrames.Ok(request.Id, snapshot.Json) : null;
}
