using System.Diagnostics.Metrics;

namespace Presence.Actors.PresenceManager;

/// <summary>
/// The presence manager's instruments, recorded where the changes happen so that counts are exact (removals
/// in particular cannot be told from the announced lists, which coalesce). A host exports them by adding
/// <see cref="MeterName"/>. Process-wide, so several managers in one process (as in the tests) add up; in a
/// cluster each node counts only the rows it owns, so a sum over nodes is the cluster's figure.
/// </summary>
public static class PresenceInstruments
{
    public const string MeterName = "Presence.Actors";

    private static readonly Meter Meter = new(MeterName);

    // Totals kept here and observed at each collection, not recorded as they happen: a listener that starts
    // after the manager (the metrics pipeline starts after the actor system) would otherwise miss the first
    // rows for good, and a removal series would not exist until its first removal.
    private static long _rows;
    private static long _changes;
    private static long _expired;
    private static long _evicted;

    private static readonly ObservableGauge<long> Rows = Meter.CreateObservableGauge(
        "presence.rows", () => Interlocked.Read(ref _rows), "{row}", "Rows this node owns, its own row included (other nodes' rows are theirs to count).");

    private static readonly ObservableCounter<long> Changes = Meter.CreateObservableCounter(
        "presence.changes", () => Interlocked.Read(ref _changes), "{change}", "Visible presence changes (stateVersion increments), other nodes' included.");

    private static readonly ObservableCounter<long> Removals = Meter.CreateObservableCounter(
        "presence.removals",
        () => new[]
        {
            new Measurement<long>(Interlocked.Read(ref _expired), new KeyValuePair<string, object?>("reason", "expired")),
            new Measurement<long>(Interlocked.Read(ref _evicted), new KeyValuePair<string, object?>("reason", "evicted")),
        },
        "{row}",
        "Rows of this node that left the list, by reason: expired (the TTL sweep) or evicted (the size bound).");

    internal static void RowsChanged(long delta) => Interlocked.Add(ref _rows, delta);

    internal static void Changed(long versions) => Interlocked.Add(ref _changes, versions);

    internal static void Expired(long rows) => Interlocked.Add(ref _expired, rows);

    internal static void Evicted(long rows) => Interlocked.Add(ref _evicted, rows);
}
