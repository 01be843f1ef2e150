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
    private Dictionary<string, Seen> _previous = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, Seen> _current = new(StringComparer.OrdinalIgnoreCase);

    public RowCounts Counts { get; } = new();

    public List<RowChange> Changes { get; } = [];

    public static string Identity(PresenceEntry row) => row.InstanceId ?? row.DeviceId ?? row.Host ?? row.Text;

    public void Observe(ReceivedPresence received)
    {
        var nowMs = (start + received.At).ToUnixTimeMilliseconds();
        _current.Clear();
        var rows = received.List.Entries;
        // The self row (always first) never leaves.
        for (var i = 1; i < rows.Length; i++)
        {
            var id = Identity(rows[i]);
            _current[id] = _current.TryGetValue(id, out var seen) ? new Seen(seen.Count + 1, Math.Min(seen.OldestTs, rows[i].Ts)) : new Seen(1, rows[i].Ts);
        }
        foreach (var (id, before) in _previous)
        {
            var left = before.Count - (_current.TryGetValue(id, out var now) ? now.Count : 0);
            if (left > 0)
                Record(received.At, id, nowMs - before.OldestTs > ttlMs ? RowChangeKind.Expired : RowChangeKind.Evicted, left);
        }
        foreach (var (id, now) in _current)
        {
            var added = now.Count - (_previous.TryGetValue(id, out var before) ? before.Count : 0);
            if (added > 0)
                Record(received.At, id, RowChangeKind.Added, added);
        }
        (_previous, _current) = (_current, _previous);
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

    private readonly record struct Seen(int Count, long OldestTs);
}
