using System.Globalization;
using Presence.Actors.Domain;
using Xunit.Sdk;

namespace Presence.Actors.TestKit;

/// <summary>
/// The product's presence rules as assertions over any simulation: each checks every list the run observed
/// (<see cref="PresenceSimulationResult.ObservedLists"/>) and fails with the first list that breaks it.
/// </summary>
public static class PresenceRules
{
    /// <summary>All of the rules below.</summary>
    public static PresenceSimulationResult ShouldFollowThePresenceRules(this PresenceSimulationResult result) =>
        result.ShouldKeepTheSelfRowFirst()
            .ShouldHaveNoDuplicateRowsForStableInstanceIds()
            .ShouldHaveNoRowOlderThanTheTtl()
            .ShouldHoldAtMostMaxEntries()
            .ShouldRaiseTheStateVersionWithEveryEvent()
            .ShouldTellEveryReaderTheLatestList();

    /// <summary>The gateway's own row is first in every list, and only there.</summary>
    public static PresenceSimulationResult ShouldKeepTheSelfRowFirst(this PresenceSimulationResult result) =>
        Check(result, "the self row is always first", (_, list) =>
            list.Entries.Length == 0 || list.Entries[0].Reason != "self" ? "the first row is not the gateway's own"
            : list.Entries.Skip(1).Any(row => row.Reason == "self") ? "a self row is not first"
            : null);

    /// <summary>A client that sends a stable instance id has one row, however often it reconnects or beacons.</summary>
    public static PresenceSimulationResult ShouldHaveNoDuplicateRowsForStableInstanceIds(this PresenceSimulationResult result) =>
        Check(result, "no duplicate rows for clients with a stable instanceId", (_, list) =>
            list.Entries.Where(row => row.InstanceId is not null)
                .GroupBy(row => row.InstanceId!, StringComparer.OrdinalIgnoreCase)
                .FirstOrDefault(rows => rows.Count() > 1) is { } duplicate
                ? $"{duplicate.Count()} rows have instanceId '{duplicate.Key}'"
                : null);

    /// <summary>
    /// No list read from the manager (<c>system-presence</c>: the samples and the final list) holds a row, the self row
    /// aside, whose <c>ts</c> is older than <c>presence.ttl</c> when read. A <c>presence</c> event may carry such a row until
    /// the next sweep takes it out (the rules expire rows by the sweep, and on reads), so events get one sweep interval more.
    /// </summary>
    public static PresenceSimulationResult ShouldHaveNoRowOlderThanTheTtl(this PresenceSimulationResult result)
    {
        var ttlMs = (long)result.Settings.Ttl.TotalMilliseconds;
        var sweepMs = (long)result.Settings.SweepInterval.TotalMilliseconds;
        var reads = result.Timeline.Select(sample => (sample.At, sample.List)).Append((result.Duration, result.FinalList));
        var events = result.Readers.SelectMany(reader => reader.Events.Select(received => (received.At, received.List)));
        return Check(result, $"no row read older than the TTL ({result.Settings.Ttl})", reads, (at, list) => OlderThan(result, at, list, ttlMs))
            .Check($"no row in a presence event older than the TTL and one sweep interval ({result.Settings.Ttl} + {result.Settings.SweepInterval})", events,
                (at, list) => OlderThan(result, at, list, ttlMs + sweepMs));
    }

    private static string? OlderThan(PresenceSimulationResult result, TimeSpan at, PresenceSnapshot list, long maxAgeMs) =>
        list.Entries.Skip(1).FirstOrDefault(row => result.GatewayTime(at) - row.Ts > maxAgeMs) is { } old
            ? $"{Describe(old)} is {result.GatewayTime(at) - old.Ts} ms old"
            : null;

    /// <summary>No list is longer than <paramref name="maxEntries"/> (by default <c>presence.max-entries</c>, 200 as shipped), the self row included.</summary>
    public static PresenceSimulationResult ShouldHoldAtMostMaxEntries(this PresenceSimulationResult result, int? maxEntries = null)
    {
        var bound = maxEntries ?? result.Settings.MaxEntries;
        return Check(result, $"at most {bound} rows", (_, list) => list.Entries.Length > bound ? $"{list.Entries.Length} rows" : null);
    }

    /// <summary>Each reader's events carry a strictly increasing <c>stateVersion</c>.</summary>
    public static PresenceSimulationResult ShouldRaiseTheStateVersionWithEveryEvent(this PresenceSimulationResult result)
    {
        foreach (var (reader, index) in result.Readers.Select((reader, index) => (reader, index)))
        {
            for (var i = 1; i < reader.Events.Count; i++)
            {
                if (reader.Events[i].StateVersion <= reader.Events[i - 1].StateVersion)
                    throw Broken("stateVersion rises with every event", reader.Events[i].At,
                        $"reader {index} got stateVersion {reader.Events[i].StateVersion} after {reader.Events[i - 1].StateVersion}");
            }
        }
        return result;
    }

    /// <summary>However the events were coalesced, every reader's last event carries the list as it is at the end.</summary>
    public static PresenceSimulationResult ShouldTellEveryReaderTheLatestList(this PresenceSimulationResult result)
    {
        foreach (var (reader, index) in result.Readers.Select((reader, index) => (reader, index)))
        {
            if (reader.Last?.StateVersion != result.FinalList.StateVersion)
                throw Broken("every reader gets the latest list", result.Duration,
                    $"reader {index} last got stateVersion {reader.Last?.StateVersion.ToString(CultureInfo.InvariantCulture) ?? "nothing"}, the list is at {result.FinalList.StateVersion}");
        }
        return result;
    }

    private static PresenceSimulationResult Check(PresenceSimulationResult result, string rule, Func<TimeSpan, PresenceSnapshot, string?> violation) =>
        result.Check(rule, result.ObservedLists, violation);

    private static PresenceSimulationResult Check(
        this PresenceSimulationResult result, string rule, IEnumerable<(TimeSpan At, PresenceSnapshot List)> lists, Func<TimeSpan, PresenceSnapshot, string?> violation)
    {
        foreach (var (at, list) in lists)
        {
            if (violation(at, list) is { } what)
                throw Broken(rule, at, $"{what} (stateVersion {list.StateVersion})");
        }
        return result;
    }

    private static XunitException Broken(string rule, TimeSpan at, string what) =>
        new($"Presence rule broken: {rule}. At {at:c} of virtual time: {what}.");

    private static string Describe(PresenceEntry row) => $"row '{row.InstanceId ?? row.DeviceId ?? row.Host ?? row.Text}'";
}
