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
    private readonly RowOrder _order;

    private PresenceState(PresenceRow self, ImmutableDictionary<PresenceKey, PresenceRow> rows, long version, PresenceLimits limits, ImmutableDictionary<string, RemoteNode> nodes, long evicted, long visibleAt, long writes, RowOrder order)
    {
        _self = self;
        _rows = rows;
        Version = version;
        _limits = limits;
        _nodes = nodes;
        Evicted = evicted;
        _visibleAt = visibleAt;
        _writes = writes;
        _order = order;
    }

    public static PresenceState Create(PresenceEntry self, PresenceLimits limits) =>
        new(new PresenceRow(self, owner: null), ImmutableDictionary<PresenceKey, PresenceRow>.Empty, 1, limits, ImmutableDictionary<string, RemoteNode>.Empty, 0, self.Ts, 0, RowOrder.Empty);

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
        var order = _order;
        ImmutableDictionary<PresenceKey, PresenceRow> rows;
        var evicted = 0;
        // The self row counts toward the bound and is never evicted: a new key in a full map replaces the oldest other row,
        // in one builder, so that the two changes share the copy of the map's top nodes.
        if (existing is null && _rows.Count >= _limits.MaxEntries - 1)
        {
            (var oldest, order) = order.Oldest(_rows);
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
        return new PresenceState(_self, rows, Version + 1, _limits, _nodes, Evicted + evicted, now, _writes + 1, order.Wrote(row, existing, rows));
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
        var renewed = new PresenceRow(row.Entry with { Ts = now }, owner, _writes + 1);
        var rows = _rows.SetItem(key, renewed);
        return new PresenceState(_self, rows, Version, _limits, _nodes, Evicted, _visibleAt, _writes + 1, _order.Wrote(renewed, row, rows));
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
        // An order lost to a clock that went back is taken anew here, once per sweep, rather than sorted for every read.
        var order = swept._order.Known ? swept._order : RowOrder.Of(swept._rows);
        return new PresenceState(new PresenceRow(Self with { Ts = now }, owner: null), swept._rows, due ? swept.Version + 1 : swept.Version, _limits, swept._nodes, swept.Evicted, due ? now : swept._visibleAt, _writes, order);
    }

    /// <summary>Drops every row older than the TTL; a row exactly TTL old is still fresh.</summary>
    public PresenceState Expire(long now)
    {
        var oldestAllowed = now - _limits.TtlMs;
        // Every read expires first: the kept order usually proves at once that no local row is old enough to go.
        if (_order.OldestTsAtLeast is { } oldest && oldest >= oldestAllowed)
            return ExpireNodes(oldestAllowed);
        ImmutableDictionary<PresenceKey, PresenceRow>.Builder? kept = null;
        var order = _order;
        foreach (var (key, row) in _rows)
        {
            if (row.Entry.Ts >= oldestAllowed)
                continue;
            kept ??= _rows.ToBuilder();
            kept.Remove(key);
            order = order.Removed(row);
        }
        var expired = kept is null ? this : With(kept.ToImmutable(), Version + 1, now, order);
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
        if (!TryListLocalRows(ordered.AsSpan(1)))
        {
            var i = 1;
            // The map's own struct enumerator: enumerating .Values costs about five times more per row.
            foreach (var (_, row) in _rows)
                ordered[i++] = row;
            RowAge.SortNewestFirst(ordered.AsSpan(1));
        }
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

    /// <summary>This node's rows newest first, from the order kept between states, without a sort; false when that order is unknown.</summary>
    internal bool TryListLocalRows(Span<PresenceRow> newestFirst) => _order.TryList(newestFirst);

    private bool OwnedBy(PresenceKey key, ConnectionId owner) => _rows.TryGetValue(key, out var row) && row.Owner == owner;

    private PresenceState With(ImmutableDictionary<PresenceKey, PresenceRow> rows, long version, long visibleAt, RowOrder order) =>
        new(_self, rows, version, _limits, _nodes, Evicted, visibleAt, _writes, order);

    private PresenceState WithNodes(ImmutableDictionary<string, RemoteNode> nodes, long version) => new(_self, _rows, version, _limits, nodes, Evicted, _visibleAt, _writes, _order);

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
    /// The local rows in age order, carried from state to state so that neither an eviction nor a snapshot sorts the
    /// map: <see cref="Order"/>, the rows as they were when it was taken, oldest first, of which every entry before
    /// <see cref="Head"/> has left the map; and <see cref="Since"/>, every write and removal after it, newest first.
    /// Each row written since is newer than every entry of the order and than every write before it, so the map's rows
    /// newest first are the trail's rows, then the order's from its end, each unless a later write replaced or removed
    /// it. A write older than that (the clock went back) leaves the order unknown until it is taken anew: at the next
    /// eviction or sweep. Each state keeps its own order, so an older state, still read by someone, never sees another
    /// state's moves.
    /// </summary>
    private readonly record struct RowOrder(EvictionOrder? Order, int Head, Trail? Since, bool Known)
    {
        /// <summary>The order of a map without local rows: nothing taken, nothing written since.</summary>
        public static RowOrder Empty => new(null, 0, null, Known: true);

        /// <summary>No order to go by: snapshots sort, and the next eviction or sweep takes an order anew.</summary>
        private static RowOrder Unknown => default;

        public static RowOrder Of(ImmutableDictionary<PresenceKey, PresenceRow> rows) => new(EvictionOrder.Of(rows), 0, null, Known: true);

        private long NewestTs => Since?.NewestTs ?? Order?.NewestTs ?? long.MinValue;

        /// <summary>
        /// A <c>ts</c> no local row is older than, or null when the order is unknown. The order's entry at <see cref="Head"/>
        /// is its oldest that may still be in the map (a row written again since is only newer), and the rows written since
        /// are no older than the trail's oldest.
        /// </summary>
        public long? OldestTsAtLeast => !Known ? null
            : Math.Min(Order is { } order && Head < order.Count ? order[Head].Value.Entry.Ts : long.MaxValue, Since?.OldestTs ?? long.MaxValue);

        /// <summary>The order once <paramref name="row"/>, replacing <paramref name="replaced"/> if any, is in <paramref name="rows"/>.</summary>
        public RowOrder Wrote(PresenceRow row, PresenceRow? replaced, ImmutableDictionary<PresenceKey, PresenceRow> rows)
        {
            if (!Known || row.Entry.Ts < NewestTs)
                return Unknown;
            var since = new Trail(row, replaced?.Written ?? 0, Since, row.Entry.Ts);
            // A trail longer than the map is worth one sort: a snapshot never walks more than twice the rows it lists.
            return since.Length > rows.Count ? Of(rows) : this with { Since = since };
        }

        public RowOrder Removed(PresenceRow row) => Known ? this with { Since = new Trail(null, row.Written, Since, NewestTs) } : this;

        /// <summary>
        /// The oldest row of <paramref name="rows"/> (which must not be empty: it is the map being evicted from), and the
        /// order past it. Takes the order anew when it has none or it ran out: the rows left are all newer than it.
        /// </summary>
        public (PresenceKey Key, RowOrder Order) Oldest(ImmutableDictionary<PresenceKey, PresenceRow> rows)
        {
            var taken = this;
            if (Order is null)
                taken = Of(rows);
            while (true)
            {
                var order = taken.Order!;
                for (var head = taken.Head; head < order.Count; head++)
                {
                    var (key, row) = order[head];
                    // Stale: the row was written again (it is newer than the order now says) or left the map.
                    if (rows.TryGetValue(key, out var current) && ReferenceEquals(current, row))
                        return (key, taken with { Head = head + 1 });
                }
                taken = Of(rows);
            }
        }

        /// <summary>Fills <paramref name="newestFirst"/> with the map's rows, newest first; false when the order is unknown.</summary>
        public bool TryList(Span<PresenceRow> newestFirst)
        {
            if (!Known)
                return false;
            // Rows written again or removed since, by write number: each is skipped where it stands in the trail or the order.
            var gone = new HashSet<long>(Since?.Length ?? 0);
            var count = 0;
            for (var at = Since; at is not null; at = at.Older)
            {
                if (at.Row is { } row && !gone.Contains(row.Written) && !TryAdd(newestFirst, ref count, row))
                    return false;
                if (at.Replaced != 0)
                    gone.Add(at.Replaced);
            }
            for (var i = (Order?.Count ?? 0) - 1; i >= Head; i--)
            {
                var row = Order![i].Value;
                if (!gone.Contains(row.Written) && !TryAdd(newestFirst, ref count, row))
                    return false;
            }
            return count == newestFirst.Length;
        }

        private static bool TryAdd(Span<PresenceRow> rows, ref int count, PresenceRow row)
        {
            if (count == rows.Length)
                return false;
            rows[count++] = row;
            return true;
        }
    }

    /// <summary>
    /// A write (<see cref="Row"/>) or a removal (no row) since the order was taken, with the write number of the row it
    /// replaced or removed (0: none; local rows are numbered from 1), and the newest <c>ts</c> written so far.
    /// </summary>
    private sealed class Trail(PresenceRow? row, long replaced, Trail? older, long newestTs)
    {
        public PresenceRow? Row { get; } = row;

        public long Replaced { get; } = replaced;

        public Trail? Older { get; } = older;

        public int Length { get; } = (older?.Length ?? 0) + 1;

        /// <summary>The oldest <c>ts</c> written in the trail so far.</summary>
        public long OldestTs { get; } = Math.Min(older?.OldestTs ?? long.MaxValue, row?.Entry.Ts ?? long.MaxValue);

        public long NewestTs { get; } = newestTs;
    }

    /// <summary>
    /// The rows of a map, oldest first (<see cref="RowAge"/>), as they were when it was built. Every row written
    /// since is newer than every entry (<see cref="RowOrder.Wrote"/> drops the order otherwise), so the
    /// first entry whose row the map still holds is the map's oldest row: eviction costs a sort once per as many
    /// evictions as the map has rows, instead of a scan of the map for each.
    /// </summary>
    private sealed class EvictionOrder
    {
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
            RowAge.SortNewestFirst(entries.AsSpan(), static entry => entry.Value);
            Array.Reverse(entries);
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
