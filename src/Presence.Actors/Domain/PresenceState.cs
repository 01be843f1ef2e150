using System.Collections.Immutable;

namespace Presence.Actors.Domain;

/// <summary>
/// The presence map and its rules, as pure code: every method takes the
/// gateway's <c>now</c> (ms since the Unix epoch) and returns the next state.
/// <see cref="Version"/> grows by one per change a reader could see; refreshing
/// a row's freshness (the self row on a sweep, a connection on a pong) is not one.
/// </summary>
public sealed class PresenceState
{
    private readonly ImmutableDictionary<PresenceKey, PresenceRow> _rows;
    private readonly PresenceRow _self;
    private readonly PresenceLimits _limits;

    private PresenceState(PresenceRow self, ImmutableDictionary<PresenceKey, PresenceRow> rows, long version, PresenceLimits limits)
    {
        _self = self;
        _rows = rows;
        Version = version;
        _limits = limits;
    }

    public static PresenceState Create(PresenceEntry self, PresenceLimits limits) =>
        new(new PresenceRow(self, owner: null), ImmutableDictionary<PresenceKey, PresenceRow>.Empty, 1, limits);

    public long Version { get; }

    public PresenceEntry Self => _self.Entry;

    /// <summary>Rows in the list, the self row included.</summary>
    public int Count => _rows.Count + 1;

    public PresenceEntry? Find(PresenceKey key) => _rows.TryGetValue(key, out var row) ? row.Entry : null;

    /// <summary>
    /// Merges <paramref name="update"/> into the row under <paramref name="key"/>.
    /// An owner claims the row for a connection; without one (a beacon) the row keeps its owner.
    /// When the list would outgrow the bound, the oldest other rows go first.
    /// </summary>
    public PresenceState Upsert(PresenceKey key, PresenceUpdate update, long now, ConnectionId? owner = null)
    {
        _rows.TryGetValue(key, out var existing);
        var row = new PresenceRow(update.ApplyTo(existing?.Entry, now), owner ?? existing?.Owner);
        var rows = _rows.SetItem(key, row);
        if (existing is null)
        {
            rows = EvictOldest(rows, key);
            // A bound that leaves room for the self row only takes the new row straight back out: nothing visible changed.
            if (!rows.ContainsKey(key))
                return this;
        }
        return With(rows, Version + 1);
    }

    /// <summary>Re-stamps a connection's row as disconnected; a row since claimed by another connection is left alone.</summary>
    public PresenceState MarkDisconnected(PresenceKey key, ConnectionId owner, string reason, long now) =>
        OwnedBy(key, owner) ? Upsert(key, new PresenceUpdate { Reason = reason }, now) : this;

    /// <summary>Renews a live connection's row (on a pong) so that it never expires while connected.</summary>
    public PresenceState Touch(PresenceKey key, ConnectionId owner, long now)
    {
        if (!OwnedBy(key, owner))
            return this;
        var row = _rows[key];
        return With(_rows.SetItem(key, new PresenceRow(row.Entry with { Ts = now }, owner)), Version);
    }

    /// <summary>Refreshes the self row and drops every other row older than the TTL.</summary>
    public PresenceState Sweep(long now)
    {
        var swept = Expire(now);
        return new PresenceState(new PresenceRow(Self with { Ts = now }, owner: null), swept._rows, swept.Version, _limits);
    }

    /// <summary>Drops every row older than the TTL; a row exactly TTL old is still fresh.</summary>
    public PresenceState Expire(long now)
    {
        var oldestAllowed = now - _limits.TtlMs;
        ImmutableDictionary<PresenceKey, PresenceRow>.Builder? kept = null;
        foreach (var (key, row) in _rows)
        {
            if (row.Entry.Ts >= oldestAllowed)
                continue;
            kept ??= _rows.ToBuilder();
            kept.Remove(key);
        }
        return kept is null ? this : With(kept.ToImmutable(), Version + 1);
    }

    /// <summary>The self row first, then the others newest first.</summary>
    public PresenceSnapshot ToSnapshot()
    {
        var others = new PresenceRow[_rows.Count];
        var timestamps = new long[_rows.Count];
        var i = 0;
        // The map's own struct enumerator: enumerating .Values costs about five times more per row.
        foreach (var (_, row) in _rows)
        {
            others[i] = row;
            timestamps[i++] = -row.Entry.Ts;
        }
        Array.Sort(timestamps, others);
        var ordered = ImmutableArray.CreateBuilder<PresenceRow>(others.Length + 1);
        ordered.Add(_self);
        ordered.AddRange(others);
        return new PresenceSnapshot(ordered.MoveToImmutable(), Version);
    }

    private bool OwnedBy(PresenceKey key, ConnectionId owner) => _rows.TryGetValue(key, out var row) && row.Owner == owner;

    private ImmutableDictionary<PresenceKey, PresenceRow> EvictOldest(ImmutableDictionary<PresenceKey, PresenceRow> rows, PresenceKey keep)
    {
        // The self row counts toward the bound and is never evicted.
        while (rows.Count > _limits.MaxEntries - 1)
        {
            PresenceKey? oldest = null;
            var oldestTs = long.MaxValue;
            foreach (var (key, row) in rows)
            {
                if (row.Entry.Ts < oldestTs && key != keep)
                {
                    oldest = key;
                    oldestTs = row.Entry.Ts;
                }
            }
            rows = rows.Remove(oldest ?? keep);
        }
        return rows;
    }

    private PresenceState With(ImmutableDictionary<PresenceKey, PresenceRow> rows, long version) => new(_self, rows, version, _limits);
}

/// <summary>The bounds a <see cref="PresenceState"/> enforces.</summary>
/// <param name="TtlMs">Age after which a row is dropped.</param>
/// <param name="MaxEntries">Most rows in the list, the self row included (at least 1).</param>
public sealed record PresenceLimits(long TtlMs, int MaxEntries);
