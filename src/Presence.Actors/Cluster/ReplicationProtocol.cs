using System.Collections.Immutable;
using Akka.Actor;
using Presence.Actors.Domain;

namespace Presence.Actors.Cluster;

/// <summary>Messages between the <see cref="PresenceReplicatorActor"/> and the PresenceManager, which stays the one owner of the (merged) map.</summary>
public static class ReplicationProtocol
{
    /// <summary>
    /// Sent by the replicator at start: the manager tells it this node's own rows now and after every change.
    /// <paramref name="Node"/> is this node's address, which operator views show beside the rows it owns.
    /// </summary>
    public sealed record WatchLocalRows(IActorRef Replicator, string Node);

    /// <summary>Told by the manager: the rows this node owns, to replicate (a refresh of a row's <c>ts</c> included).</summary>
    internal sealed record LocalRowsChanged(PresenceRow Self, ImmutableDictionary<PresenceKey, PresenceRow> Rows);

    /// <summary>Told by the replicator: what another node owns now; empty when it became unreachable or was downed.</summary>
    public sealed record RemoteRowsChanged(string Node, NodeRows Rows);

    /// <summary>Told by the replicator when a node left gracefully: its rows stay, marked disconnected, until the TTL.</summary>
    public sealed record RemoteNodeLeft(string Node);

    /// <summary>Told by the replicator whenever membership or reachability changes: every member, for operator views.</summary>
    public sealed record MembersChanged(ImmutableArray<PresenceNode> Members);
}
