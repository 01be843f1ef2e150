using System.Collections.Frozen;

namespace Presence.Gateway.Operators;

/// <summary>The seed's three checks for duplicate rows (presence-rules.md, "Debugging duplicates").</summary>
internal enum DuplicateCheck
{
    /// <summary>"Confirm clients send a stable client.instanceId in the handshake."</summary>
    StableInstanceId = 1,

    /// <summary>"Confirm periodic beacons use the same instanceId."</summary>
    BeaconInstanceId = 2,

    /// <summary>"A connection-derived entry without instanceId is an expected duplicate."</summary>
    ConnectionWithoutInstanceId = 3,
}

/// <summary>Why one row looks like a duplicate, in plain words, with the fix on the client's side.</summary>
internal sealed record DuplicateFinding(InstanceView Row, DuplicateCheck Check, string Explanation);

/// <summary>
/// Finds rows that look like the same client: same host and the same platform or device, different rows, at
/// least one without <c>instanceId</c>. Each such row is told which check applies. The Instances page applies the
/// same rule (instances.js, <c>lookAlikes</c>) for its hover.
/// </summary>
internal static class InstanceDoctor
{
    /// <summary>Reasons a connection writes; any other reason came with a beacon.</summary>
    private static readonly FrozenSet<string> ConnectionReasons =
        new[] { "connect", "disconnect", "node-connected", "node-disconnected" }.ToFrozenSet(StringComparer.Ordinal);

    public static IReadOnlyList<DuplicateFinding> Examine(IEnumerable<InstanceView> rows)
    {
        var findings = new List<DuplicateFinding>();
        var groups = rows.Where(row => !row.IsGateway && row.Host.Length > 0)
            .GroupBy(row => (Host: row.Host.ToLowerInvariant(), Device: row.Device.ToLowerInvariant()));
        foreach (var group in groups)
        {
            var lookAlikes = group.ToList();
            if (lookAlikes.Count < 2 || lookAlikes.All(row => row.InstanceId.Length > 0))
                continue;
            foreach (var row in lookAlikes)
                findings.Add(Explain(row, lookAlikes.Count));
        }
        return findings;
    }

    private static DuplicateFinding Explain(InstanceView row, int count)
    {
        var others = count - 1;
        var same = $"{row.Host} has {others} other {(others == 1 ? "row" : "rows")} that look like the same client ({row.Device}).";
        if (row.InstanceId.Length == 0 && IsFromConnection(row))
            return new(row, DuplicateCheck.ConnectionWithoutInstanceId,
                $"{same} This row came from a connection that sent no client.instanceId, so it is keyed by that connection alone: an expected duplicate, and every reconnect adds another. Fix in the client: send a stable client.instanceId in its connect request.");
        if (row.InstanceId.Length == 0)
            return new(row, DuplicateCheck.BeaconInstanceId,
                $"{same} This row came from a system-event beacon without instanceId, so it could not merge into the client's connection row. Fix in the client: send the same instanceId in every beacon as in its connect request.");
        return new(row, DuplicateCheck.StableInstanceId,
            $"{same} This row has instanceId {row.InstanceId}; the look-alike without one is the duplicate. Fix in the client: send this same client.instanceId in every connect and beacon, and keep it across restarts.");
    }

    private static bool IsFromConnection(InstanceView row) => row.Reason is not null && ConnectionReasons.Contains(row.Reason);
}
