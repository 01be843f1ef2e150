using Presence.Actors.Domain;
using Presence.Actors.Hosting;

namespace Presence.Actors.TestKit;

/// <summary>The list as the manager answered <c>system-presence</c> at one moment, with its rows counted by status.</summary>
/// <param name="At">Virtual time since the start of the simulation.</param>
/// <param name="List">The list the manager answered.</param>
/// <param name="Active">Rows updated at most 120 s before whose client is still there (the self row included).</param>
/// <param name="Idle">Rows updated at most 300 s before, and longer than 120 s.</param>
/// <param name="Stale">Rows updated longer ago.</param>
/// <param name="Left">Rows whose client closed its connection at most 120 s before (later they count as Idle, then Stale).</param>
/// <param name="PresenceEvents">Presence events the first reader received since the previous sample.</param>
public sealed record TimelineSample(TimeSpan At, PresenceSnapshot List, int Active, int Idle, int Stale, int Left, long PresenceEvents);

/// <summary>What a simulation observed: the lists, every reader's events, the rows in and out, and the timeline.</summary>
public sealed class PresenceSimulationResult
{
    internal PresenceSimulationResult(
        PresenceSettings settings, DateTimeOffset start, TimeSpan duration, PresenceSnapshot finalList,
        IReadOnlyList<PresenceReaderLog> readers, IReadOnlyList<TimelineSample> timeline, RowTracker rows, SimulationCounts clients)
    {
        Settings = settings;
        Start = start;
        Duration = duration;
        FinalList = finalList;
        Readers = readers;
        Timeline = timeline;
        Rows = rows.Counts;
        RowChanges = rows.Changes;
        Clients = clients;
    }

    /// <summary>The presence settings the manager ran with (the shipped defaults under the scenario's HOCON).</summary>
    public PresenceSettings Settings { get; }

    /// <summary>The gateway clock at virtual time zero.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>How much virtual time the run covered.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The list at the end of the run.</summary>
    public PresenceSnapshot FinalList { get; }

    /// <summary>What each simulated reader received, in the order they subscribed.</summary>
    public IReadOnlyList<PresenceReaderLog> Readers { get; }

    /// <summary>The list sampled at every sampling interval, from the start to the end.</summary>
    public IReadOnlyList<TimelineSample> Timeline { get; }

    /// <summary>Rows added, expired and evicted, as the first reader saw them.</summary>
    public RowCounts Rows { get; }

    /// <summary>Each row change the first reader saw, in order; empty when the scenario did not keep every list.</summary>
    public IReadOnlyList<RowChange> RowChanges { get; }

    /// <summary>What the simulated clients did.</summary>
    public SimulationCounts Clients { get; }

    /// <summary>
    /// Every list observed: each reader's events (when kept), every timeline sample and the final list,
    /// each with the virtual time it was observed at. The rules in <see cref="PresenceRules"/> check these.
    /// </summary>
    public IEnumerable<(TimeSpan At, PresenceSnapshot List)> ObservedLists =>
        Readers.SelectMany(reader => reader.Events.Select(received => (received.At, received.List)))
            .Concat(Timeline.Select(sample => (sample.At, sample.List)))
            .Append((Duration, FinalList));

    /// <summary>The latest list observed at or before <paramref name="at"/> (a reader's event or a sample).</summary>
    public PresenceSnapshot ListAt(TimeSpan at) =>
        ObservedLists.Where(observed => observed.At <= at).MaxBy(observed => (observed.At, observed.List.StateVersion)).List
        ?? throw new ArgumentOutOfRangeException(nameof(at), at, "nothing was observed that early");

    /// <summary>Every row of the list at <paramref name="at"/>, with the status a reader shows for it then.</summary>
    public IReadOnlyList<(PresenceEntry Row, PresenceStatus Status)> StatusesAt(TimeSpan at)
    {
        var nowMs = GatewayTime(at);
        return ListAt(at).Entries.Select(row => (row, PresenceStatuses.Of(row, nowMs))).ToList();
    }

    /// <summary>The gateway clock (ms since the Unix epoch) at virtual time <paramref name="at"/>, as rows' <c>ts</c> read.</summary>
    public long GatewayTime(TimeSpan at) => (Start + at).ToUnixTimeMilliseconds();

    /// <summary>Writes the timeline (rows by status, presence events per sampling interval) as an SVG chart.</summary>
    public void WriteTimelineSvg(string path, string? title = null) => TimelineChart.Write(this, path, title);
}
