using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Presence.Actors.Domain;

namespace Presence.Actors.TestKit;

/// <summary>What happened to one row between two lists a reader received.</summary>
public enum RowChangeKind
{
    /// <summary>A row appeared.</summary>
    Added,

    /// <summary>Gone past the TTL (by a sweep, or hidden by a read between sweeps).</summary>
    Expired,

    /// <summary>Gone while still younger than the TTL: pushed out by the size bound.</summary>
    Evicted,
}

/// <summary>A row that appeared in or left the list, as the first reader saw it.</summary>
/// <param name="At">Virtual time since the start of the simulation.</param>
/// <param name="Row">The row's identity: its instance id, else device id, else host.</param>
/// <param name="Kind">Whether it came or went, and why it went.</param>
public sealed record RowChange(TimeSpan At, string Row, RowChangeKind Kind);

/// <summary>Rows in and out of the list, as seen by diffing each list the first reader received with the one before.</summary>
public sealed class RowCounts
{
    /// <summary>Rows that appeared.</summary>
    public long Added { get; internal set; }

    /// <summary>Rows that left past the TTL.</summary>
    public long Expired { get; internal set; }

    /// <summary>Rows the size bound pushed out.</summary>
    public long Evicted { get; internal set; }

    /// <summary>Rows that left, for either reason.</summary>
    public long Removed => Expired + Evicted;
}

/// <summary>
/// Diffs consecutive lists by row identity (rows without an instance or device id that share a host, such as
/// the duplicates of a client without a stable id, count as many). Readers see coalesced lists, so a row that
/// came and went between two of them is not seen, exactly as an operator would not see it.
/// </summary>
internal sealed class RowTracker(long ttlMs, DateTimeOffset start, bool keepChanges)
{
    // Instance ids are compared as presence keys are, without case; comparing in place saves a lowered copy per row per event.
    private readonly Dictionary<string, int> _rowsById = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Change> _changes = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<PresenceEntry> _gone = [];
    private ImmutableArray<PresenceEntry> _previous = ImmutableArray<PresenceEntry>.Empty;

    public RowCounts Counts { get; } = new();

    public List<RowChange> Changes { get; } = [];

    public static string Identity(PresenceEntry row) => row.InstanceId ?? row.DeviceId ?? row.Host ?? row.Text;

    public void Observe(ReceivedPresence received)
    {
        var nowMs = (start + received.At).ToUnixTimeMilliseconds();
        var rows = received.List.Entries;
        var previous = _previous;
        _previous = rows;
        // A list is the one before with some rows taken out and the rows written since (new, or written again) in
        // front, newest first: the rows both hold are the same entries in the same order. Matching them from the
        // oldest end leaves only the few that changed to count by identity, instead of every row of both lists.
        // (Were the order ever otherwise, a kept row would show up as gone and as new, which cancel out below.)
        // The self row (always first) never leaves.
        _gone.Clear();
        var i = previous.Length - 1;
        var newest = rows.Length - 1;
        for (; newest >= 1; newest--, i--)
        {
            while (i >= 1 && !ReferenceEquals(previous[i], rows[newest]))
                _gone.Add(previous[i--]);
            if (i < 1)
                break;
        }
        for (; i >= 1; i--)
            _gone.Add(previous[i]);

        _changes.Clear();
        for (var k = _gone.Count - 1; k >= 0; k--)
        {
            ref var change = ref CollectionsMarshal.GetValueRefOrAddDefault(_changes, Identity(_gone[k]), out var seen);
            change = new Change(change.Gone + 1, 0, seen ? Math.Min(change.OldestGoneTs, _gone[k].Ts) : _gone[k].Ts);
        }
        for (var k = 1; k <= newest; k++)
            CollectionsMarshal.GetValueRefOrAddDefault(_changes, Identity(rows[k]), out _).New++;

        foreach (var (id, change) in _changes)
        {
            if (change.Gone > change.New)
                Record(received.At, id, nowMs - OldestTs(previous, id, change) > ttlMs ? RowChangeKind.Expired : RowChangeKind.Evicted, change.Gone - change.New);
        }
        foreach (var (id, change) in _changes)
        {
            if (change.New > change.Gone)
                Record(received.At, id, RowChangeKind.Added, change.New - change.Gone);
            var count = _rowsById.GetValueOrDefault(id) + change.New - change.Gone;
            if (count == 0)
                _rowsById.Remove(id);
            else
                _rowsById[id] = count;
        }
    }

    /// <summary>The oldest <c>ts</c> among the rows of <paramref name="id"/> in the list before: the gone rows', unless some stayed.</summary>
    private long OldestTs(ImmutableArray<PresenceEntry> previous, string id, Change change)
    {
        if (_rowsById.GetValueOrDefault(id) == change.Gone)
            return change.OldestGoneTs;
        var oldest = long.MaxValue;
        for (var i = 1; i < previous.Length; i++)
        {
            if (string.Equals(Identity(previous[i]), id, StringComparison.OrdinalIgnoreCase))
                oldest = Math.Min(oldest, previous[i].Ts);
        }
        return oldest;
    }

    private void Record(TimeSpan at, string id, RowChangeKind kind, int count)
    {
        switch (kind)
        {
            case RowChangeKind.Added:
                Counts.Added += count;
                break;
            case RowChangeKind.Expired:
                Counts.Expired += count;
                break;
            default:
                Counts.Evicted += count;
                break;
        }
        if (!keepChanges)
            return;
        for (var i = 0; i < count; i++)
            Changes.Add(new RowChange(at, id, kind));
    }

    /// <summary>One identity's rows gone from and new in a list, and the oldest <c>ts</c> of those gone.</summary>
    private record struct Change(int Gone, int New, long OldestGoneTs);
}
