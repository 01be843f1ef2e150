using System.Collections.Immutable;
using Akka.Actor;
using Presence.Actors.Domain;

namespace Presence.Actors.PresenceManager;

/// <summary>Commands to the <see cref="PresenceManagerActor"/>: sent by connections and by beacons.</summary>
public static class PresenceCommands
{
    /// <summary>Merges a patch into a row; <paramref name="Owner"/> claims the row for a connection.</summary>
    public sealed record Upsert(PresenceKey Key, PresenceUpdate Update, ConnectionId? Owner = null);

    /// <summary>Sent when a connection closes: its row stays, re-stamped with <paramref name="Reason"/>, until the TTL removes it.</summary>
    public sealed record MarkDisconnected(PresenceKey Key, ConnectionId Owner, string Reason);

    /// <summary>Renews a live connection's row (on a WebSocket pong) without announcing a change.</summary>
    public sealed record Touch(PresenceKey Key, ConnectionId Owner);

    /// <summary>The subscriber is told of every visible change with a <see cref="PresenceEvents.PresenceChanged"/>, until it stops or unsubscribes.</summary>
    public sealed record Subscribe(IActorRef Subscriber);

    public sealed record Unsubscribe(IActorRef Subscriber);
}

/// <summary>Queries answered by the <see cref="PresenceManagerActor"/>, asked from outside actors or piped into one.</summary>
public static class PresenceQueries
{
    /// <summary>Asks for the current list; never returns an expired row.</summary>
    public sealed class GetPresence
    {
        public static readonly GetPresence Instance = new();

        private GetPresence()
        {
        }
    }

    public sealed record GetPresenceResponse(PresenceSnapshot Snapshot);

    /// <summary>Asks where each row of the current list comes from, and which nodes make up the cluster: for operator views.</summary>
    public sealed class GetPresenceOrigins
    {
        public static readonly GetPresenceOrigins Instance = new();

        private GetPresenceOrigins()
        {
        }
    }

    /// <param name="Rows">One per row of the current list (expired rows never), newest first after the gateway's own.</param>
    /// <param name="Nodes">The cluster's members as this node sees them; a gateway alone is one node, up.</param>
    public sealed record GetPresenceOriginsResponse(ImmutableArray<PresenceOrigin> Rows, ImmutableArray<PresenceNode> Nodes);
}

/// <summary>Told by the <see cref="PresenceManagerActor"/> to its subscribers.</summary>
public static class PresenceEvents
{
    /// <summary>The visible list changed; bursts are coalesced, and the latest list always arrives.</summary>
    public sealed record PresenceChanged(PresenceSnapshot Snapshot);
}
