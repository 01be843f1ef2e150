using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Presence.Actors.Domain;

/// <summary>
/// The presence map and its rules, as pure code: every method takes the
/// gateway's <c>now</c> (ms since the Unix epoch) and returns the next state.
/// <see cref="Version"/> grows by one per change a reader could see; refreshing
/// a row's freshness (the self row on a sweep, a connection on a pong) is not one, until readers would
/// see those rows age: see <see cref="Sweep"/>.
/// In a cluster it also holds the rows other nodes own (see <see cref="WithNode"/>), and the
/// snapshot is the merged view of all of them (<see cref="PresenceMerge"/>); alone, it is just this node's list.
/// </summary>
public sealed class PresenceState
{
    private readonly ImmutableDictionary<PresenceKey, PresenceRow> _rows;
    private readonly PresenceRow _self;
    private readonly PresenceLimits _limits;
    private readonly ImmutableDictionary<string, RemoteNode> _nodes;
    /// <summary>When this node last made a change visible (an upsert, an expiry, a renewal announcement).</summary>
    private readonly long _visibleAt;
    /// <summary>Rows written so far: the next write is <c>_writes + 1</c> (see <see cref="PresenceRow.Written"/>).</summary>
    private readonly long _writes;
    private readonly EvictionCursor _eviction;

    private PresenceState(PresenceRow self, ImmutableDictionary<PresenceKey, PresenceRow> rows, long version, PresenceLimits limits, ImmutableDictionary<string, RemoteNode> nodes, long evicted, long visibleAt, long writes, EvictionCursor eviction)
    {
        _self = self;
        _rows = rows;
        Version = version;
        _limits = limits;
        _nodes = nodes;
        Evicted = evicted;
        _visibleAt = visibleAt;
        _writes = writes;
        _eviction = eviction;
    }

    public static PresenceState Create(PresenceEntry self, PresenceLimits limits) =>
        new(new PresenceRow(self, owner: null), ImmutableDictionary<PresenceKey, PresenceRow>.Empty, 1, limits, ImmutableDictionary<string, RemoteNode>.Empty, 0, self.Ts, 0, default);

    public long Version { get; }

    /// <summary>Rows the size bound has pushed out since the state was created (a count the map alone cannot tell afterwards).</summary>
    public long Evicted { get; }

    public PresenceEntry Self => _self.Entry;

    /// <summary>Rows in the list, the self row included.</summary>
    public int Count => _rows.Count + 1;

    public PresenceEntry? Find(PresenceKey key) => _rows.TryGetValue(key, out var row) ? row.Entry : null;

    /// <summary>The rows this node owns (its self row aside): what it replicates to the other nodes.</summary>
    internal ImmutableDictionary<PresenceKey, PresenceRow> LocalRows => _rows;

    internal PresenceRow SelfRow => _self;

    /// <summary>The other nodes whose rows are in the view, by node id.</summary>
    public IEnumerable<string> Nodes => _nodes.Keys;

    /// <summary>
    /// Replaces what node <paramref name="node"/> owns with <paramref name="rows"/> (empty: its rows leave the view).
    /// Only a change a reader could see bumps the version: rows that differ in <c>ts</c> alone are a refresh.
    /// </summary>
    public PresenceState WithNode(string node, NodeRows rows)
    {
        _nodes.TryGetValue(node, out var current);
        if (rows.IsEmpty)
            return current is null ? this : WithNodes(_nodes.Remove(node), Version + 1);
        var next = RemoteNode.From(rows, current);
        var visible = current is null || !current.SameApartFromTs(next);
        return WithNodes(_nodes.SetItem(node, next), visible ? Version + 1 : Version);
    }

    /// <summary>
    /// A node left the cluster gracefully: its self row goes, and its client rows stay as disconnected
    /// (re-stamped at <paramref name="now"/> unless already marked) until the TTL removes them, as on one node.
    /// </summary>
    public PresenceState NodeLeft(string node, long now)
    {
        if (!_nodes.TryGetValue(node, out var current))
            return this;
        var rows = current.Rows.ToImmutableDictionary(row => row.Key, row => IsDisconnected(row.Value.Entry)
            ? row.Value.Entry
            : row.Value.Entry with { Reason = DisconnectReason(row.Value.Entry), Ts = now });
        return WithNode(node, new NodeRows(null, rows));
    }

    /// <summary>
    /// Merges <paramref name="update"/> into the row under <paramref name="key"/>.
    /// An owner claims the row for a connection; without one (a beacon) the row keeps its owner.
    /// When the list would outgrow the bound, the oldest other rows go first.
    /// </summary>
    public PresenceState Upsert(PresenceKey key, PresenceUpdate update, long now, ConnectionId? owner = null)
    {
        _rows.TryGetValue(key, out var existing);
        // A bound that leaves room for the self row only would take a new row straight back out: nothing visible changes.
        if (existing is null && _limits.MaxEntries == 1)
            return this;
        var row = new PresenceRow(update.ApplyTo(existing?.Entry, now), owner ?? existing?.Owner, _writes + 1);
        var eviction = _eviction;
        ImmutableDictionary<PresenceKey, PresenceRow> rows;
        var evicted = 0;
        // The self row counts toward the bound and is never evicted: a new key in a full map replaces the oldest other row,
        // in one builder, so that the two changes share the copy of the map's top nodes.
        if (existing is null && _rows.Count >= _limits.MaxEntries - 1)
        {
            (var oldest, eviction) = eviction.Oldest(_rows);
            var builder = _rows.ToBuilder();
            builder.Remove(oldest);
            builder[key] = row;
            rows = builder.ToImmutable();
            evicted = 1;
        }
        else
        {
            rows = _rows.SetItem(key, row);
        }
        return new PresenceState(_self, rows, Version + 1, _limits, _nodes, Evicted + evicted, now, _writes + 1, eviction.AfterWriteAt(now));
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
        var rows = _rows.SetItem(key, new PresenceRow(row.Entry with { Ts = now }, owner, _writes + 1));
        return new PresenceState(_self, rows, Version, _limits, _nodes, Evicted, _visibleAt, _writes + 1, _eviction.AfterWriteAt(now));
    }

    /// <summary>
    /// Refreshes the self row and drops every other row older than the TTL. Renewals (this refresh, a live
    /// connection's pongs) change nothing a reader sees, so readers keep the <c>ts</c> of the last visible
    /// change and would watch the gateway's and every live client's row age into Idle. So when no visible
    /// change happened for <see cref="PresenceLimits.RenewalAnnounceMs"/> (as the sweeps saw it), this sweep
    /// is one: the version grows and the list, with every renewed <c>ts</c>, goes out like any other change.
    /// Any change of this node's in between resets the wait: a busy gateway never announces a renewal on its own.
    /// (Other nodes' changes do not: they may cost a cluster node one announcement more, never one less.)
    /// </summary>
    public PresenceState Sweep(long now)
    {
        var swept = Expire(now);
        var due = now - swept._visibleAt >= _limits.RenewalAnnounceMs;
        return new PresenceState(new PresenceRow(Self with { Ts = now }, owner: null), swept._rows, due ? swept.Version + 1 : swept.Version, _limits, swept._nodes, swept.Evicted, due ? now : swept._visibleAt, _writes, swept._eviction);
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
        var expired = kept is null ? this : With(kept.ToImmutable(), Version + 1, now);
        return expired.ExpireNodes(oldestAllowed);
    }

    /// <summary>The self row first, then the others newest first.</summary>
    public PresenceSnapshot ToSnapshot()
    {
        if (!_nodes.IsEmpty)
        {
            var view = PresenceMerge.View(_self, _rows, _nodes.Values.Select(node => (node.Self, (IEnumerable<KeyValuePair<PresenceKey, PresenceRow>>)node.Rows)), _limits.MaxEntries);
            return new PresenceSnapshot(view, Version);
        }
        var ordered = new PresenceRow[_rows.Count + 1];
        ordered[0] = _self;
        var i = 1;
        // The map's own struct enumerator: enumerating .Values costs about five times more per row.
        foreach (var (_, row) in _rows)
            ordered[i++] = row;
        RowAge.SortNewestFirst(ordered.AsSpan(1));
        // Sorted in place behind the self row and handed over as is: no other reference to the array is kept.
        return new PresenceSnapshot(ImmutableCollectionsMarshal.AsImmutableArray(ordered), Version);
    }

    /// <summary>
    /// Where each row of <see cref="ToSnapshot"/> comes from: its key and the node whose version is shown, this node's
    /// rows as <paramref name="localNode"/> and another node's as <paramref name="nodeAddress"/> of its id.
    /// Asked for by operator views only, so it is built on demand, never with a snapshot.
    /// </summary>
    public ImmutableArray<PresenceOrigin> Origins(string localNode, Func<string, string> nodeAddress)
    {
        var nodes = _nodes.Select(node => (node.Key, node.Value.Self, (IEnumerable<KeyValuePair<PresenceKey, PresenceRow>>)node.Value.Rows));
        return PresenceMerge.Place(_self, _rows, nodes, _limits.MaxEntries)
            .Select(row => new PresenceOrigin(row.Key, row.Node is null ? localNode : nodeAddress(row.Node), row.Row.Entry.Ts, row.Row.Entry.InstanceId, row.Row.Entry.Text))
            .ToImmutableArray();
    }

    private bool OwnedBy(PresenceKey key, ConnectionId owner) => _rows.TryGetValue(key, out var row) && row.Owner == owner;

    private PresenceState With(ImmutableDictionary<PresenceKey, PresenceRow> rows, long version, long visibleAt) =>
        new(_self, rows, version, _limits, _nodes, Evicted, visibleAt, _writes, _eviction);

    private PresenceState WithNodes(ImmutableDictionary<string, RemoteNode> nodes, long version) => new(_self, _rows, version, _limits, nodes, Evicted, _visibleAt, _writes, _eviction);

    /// <summary>A read never shows another node's expired row either, even before that node sweeps it.</summary>
    private PresenceState ExpireNodes(long oldestAllowed)
    {
        var state = this;
        foreach (var (node, rows) in _nodes)
        {
            if (rows.Expire(oldestAllowed) is { } kept)
                state = state.WithNodes(kept.IsEmpty ? state._nodes.Remove(node) : state._nodes.SetItem(node, kept), state.Version + 1);
        }
        return state;
    }

    private static bool IsDisconnected(PresenceEntry entry) => entry.Reason is "disconnect" or "node-disconnected";

    // The reasons a connection's close writes (ConnectedClient): nodes have their own.
    private static string DisconnectReason(PresenceEntry entry) =>
        entry.Reason is { } reason && reason.StartsWith("node-", StringComparison.Ordinal) ? "node-disconnected" : "disconnect";

    /// <summary>
    /// Where a state stands in an <see cref="EvictionOrder"/>: the first entry not yet known to be stale. Each state
    /// keeps its own head, so an older state, still read or written by someone, never sees another state's moves.
    /// The default cursor has no order: the next eviction builds one.
    /// </summary>
    private readonly record struct EvictionCursor(EvictionOrder? Order, int Head)
    {
        /// <summary>A row written at <paramref name="now"/> keeps the order valid unless it is older than an entry: the clock went back.</summary>
        public EvictionCursor AfterWriteAt(long now) => Order is { } order && now < order.NewestTs ? default : this;

        /// <summary>
        /// The oldest row of <paramref name="rows"/> (which must not be empty: it is the map being evicted from), and the
        /// cursor past it. Builds the order anew when it has none or it ran out: the rows left are all newer than it.
        /// </summary>
        public (PresenceKey Key, EvictionCursor Cursor) Oldest(ImmutableDictionary<PresenceKey, PresenceRow> rows)
        {
            var order = Order ?? EvictionOrder.Of(rows);
            var head = Order is null ? 0 : Head;
            while (true)
            {
                for (; head < order.Count; head++)
                {
                    var (key, row) = order[head];
                    // Stale: the row was written again (it is newer than the order now says) or left the map.
                    if (rows.TryGetValue(key, out var current) && ReferenceEquals(current, row))
                        return (key, new EvictionCursor(order, head + 1));
                }
                order = EvictionOrder.Of(rows);
                head = 0;
            }
        }
    }

    /// <summary>
    /// The rows of a map, oldest first (<see cref="RowAge"/>), as they were when it was built. Every row written
    /// since is newer than every entry (<see cref="EvictionCursor.AfterWriteAt"/> drops the order otherwise), so the
    /// first entry whose row the map still holds is the map's oldest row: eviction costs a sort once per as many
    /// evictions as the map has rows, instead of a scan of the map for each.
    /// </summary>
    private sealed class EvictionOrder
    {
        private static readonly IComparer<KeyValuePair<PresenceKey, PresenceRow>> OldestFirst =
            Comparer<KeyValuePair<PresenceKey, PresenceRow>>.Create((a, b) => a.Value.Age.CompareTo(b.Value.Age));

        private readonly KeyValuePair<PresenceKey, PresenceRow>[] _entries;

        private EvictionOrder(KeyValuePair<PresenceKey, PresenceRow>[] entries)
        {
            _entries = entries;
            NewestTs = entries.Length == 0 ? long.MinValue : entries[^1].Value.Entry.Ts;
        }

        public long NewestTs { get; }

        public int Count => _entries.Length;

        public KeyValuePair<PresenceKey, PresenceRow> this[int index] => _entries[index];

        public static EvictionOrder Of(ImmutableDictionary<PresenceKey, PresenceRow> rows)
        {
            var entries = new KeyValuePair<PresenceKey, PresenceRow>[rows.Count];
            var i = 0;
            foreach (var entry in rows)
                entries[i++] = entry;
            Array.Sort(entries, OldestFirst);
            return new EvictionOrder(entries);
        }
    }

    /// <summary>Another node's rows as stored rows, so that each keeps its JSON across snapshots.</summary>
    private sealed class RemoteNode(PresenceRow? self, ImmutableDictionary<PresenceKey, PresenceRow> rows)
    {
        public PresenceRow? Self { get; } = self;

        public ImmutableDictionary<PresenceKey, PresenceRow> Rows { get; } = rows;

        public bool IsEmpty => Self is null && Rows.IsEmpty;

        /// <summary>Reuses the stored row of every entry that did not change.</summary>
        public static RemoteNode From(NodeRows rows, RemoteNode? current)
        {
            var self = rows.Self is null ? null : Reuse(current?.Self, rows.Self);
            var stored = rows.Rows.ToImmutableDictionary(
                row => row.Key,
                row => Reuse(current is not null && current.Rows.TryGetValue(row.Key, out var seen) ? seen : null, row.Value));
            return new RemoteNode(self, stored);
        }

        public bool SameApartFromTs(RemoteNode other)
        {
            if (!SameApartFromTs(Self, other.Self) || Rows.Count != other.Rows.Count)
                return false;
            foreach (var (key, row) in Rows)
            {
                if (!other.Rows.TryGetValue(key, out var theirs) || !SameApartFromTs(row, theirs))
                    return false;
            }
            return true;
        }

        /// <summary>The rows still fresh, or null when none expired.</summary>
        public RemoteNode? Expire(long oldestAllowed)
        {
            var selfExpired = Self is not null && Self.Entry.Ts < oldestAllowed;
            var expired = Rows.Where(row => row.Value.Entry.Ts < oldestAllowed).Select(row => row.Key).ToList();
            return selfExpired || expired.Count > 0 ? new RemoteNode(selfExpired ? null : Self, Rows.RemoveRange(expired)) : null;
        }

        private static PresenceRow Reuse(PresenceRow? seen, PresenceEntry entry) =>
            seen is not null && seen.Entry.Ts == entry.Ts && PresenceMerge.SameApartFromTs(seen.Entry, entry) ? seen : new PresenceRow(entry, owner: null);

        private static bool SameApartFromTs(PresenceRow? a, PresenceRow? b) =>
            a is null || b is null ? a is null && b is null : PresenceMerge.SameApartFromTs(a.Entry, b.Entry);
    }
}

/// <summary>The bounds a <see cref="PresenceState"/> enforces.</summary>
/// <param name="TtlMs">Age after which a row is dropped.</param>
/// <param name="MaxEntries">Most rows in the list, the self row included (at least 1).</param>
/// <param name="RenewalAnnounceMs">Longest a sweep lets readers go without a visible change while rows are renewed silently.</param>
public sealed record PresenceLimits(long TtlMs, int MaxEntries, long RenewalAnnounceMs = PresenceLimits.DefaultRenewalAnnounceMs)
{
    public const long DefaultRenewalAnnounceMs = 60_000;
}
