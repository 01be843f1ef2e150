using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;

namespace Presence.Actors.Cluster;

/// <summary>
/// Cluster membership as this node sees it, read from Akka.Cluster's state at each collection: members by status
/// and how many of them are unreachable. A host exports them by adding <see cref="MeterName"/>. Process-wide like
/// <see cref="PresenceManager.PresenceInstruments"/>: several nodes in one process (as in the tests) add up.
/// </summary>
public static class ClusterInstruments
{
    public const string MeterName = "Presence.Cluster";

    private static readonly Meter Meter = new(MeterName);

    private static readonly ConcurrentDictionary<ActorSystem, Akka.Cluster.Cluster> Nodes = new();

    /// <summary>Every status, so that a status with no member reads 0 instead of vanishing from the scrape.</summary>
    private static readonly MemberStatus[] Statuses = Enum.GetValues<MemberStatus>();

    private static readonly ObservableGauge<long> Members = Meter.CreateObservableGauge(
        "presence.cluster.members",
        () => Statuses.Select(status => new Measurement<long>(
            Nodes.Values.Sum(cluster => (long)cluster.State.Members.Count(member => member.Status == status)),
            new KeyValuePair<string, object?>("status", status.ToString().ToLowerInvariant()))),
        "{member}",
        "Cluster members this node knows of, by status (joining, up, leaving, exiting, down, removed, weaklyup).");

    private static readonly ObservableGauge<long> Unreachable = Meter.CreateObservableGauge(
        "presence.cluster.unreachable",
        () => Nodes.Values.Sum(cluster => (long)cluster.State.Unreachable.Count),
        "{member}",
        "Members this node's failure detector marks unreachable; their rows are out of the view until they return or are downed.");

    /// <summary>Observes <paramref name="system"/>'s cluster until the system terminates.</summary>
    public static void Track(ActorSystem system)
    {
        Nodes[system] = Akka.Cluster.Cluster.Get(system);
        system.WhenTerminated.ContinueWith(_ => Nodes.TryRemove(system, out Akka.Cluster.Cluster? _), TaskScheduler.Default);
    }
}
