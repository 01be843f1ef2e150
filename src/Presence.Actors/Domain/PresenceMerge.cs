using System.Collections.Immutable;

namespace Presence.Actors.Domain;

/// <summary>
/// The rows one other cluster node owns, as it last replicated them: its self row
/// (absent once the node has left) and its client rows by presence key.
/// </summary>
public sealed record NodeRows(PresenceEntry? Self, ImmutableDictionary<PresenceKey, PresenceEntry> Rows)
{
    public static readonly NodeRows Empty = new(null, ImmutableDictionary<PresenceKey, PresenceEntry>.Empty);

    public bool IsEmpty => Self is null && Rows.IsEmpty;
}

/// <summary>
/// How the cluster-wide list is built from what each node owns (in the style of Phoenix.Tracker):
/// a union grouped by presence key where the newest <c>ts</c> wins and fields it lacks come from
/// older rows, one self row per live node, and the <c>max-entries</c> bound over the whole view.
/// Pure code: the TTL is applied before, by <see cref="PresenceState.Expire"/>.
/// </summary>
public static class PresenceMerge
{
    /// <summary>One row from two nodes' versions of it: every field of <paramref name="newer"/>, with the ones it lacks filled from <paramref name="older"/>.</summary>
    public static PresenceEntry Combine(PresenceEntry newer, PresenceEntry older) => new()
    {
        InstanceId = newer.InstanceId ?? older.InstanceId,
        Host = newer.Host ?? older.Host,
        Ip = newer.Ip ?? older.Ip,
        Version = newer.Version ?? older.Version,
        Platform = newer.Platform ?? older.Platform,
        DeviceFamily = newer.DeviceFamily ?? older.DeviceFamily,
        ModelIdentifier = newer.ModelIdentifier ?? older.ModelIdentifier,
        Mode = newer.Mode ?? older.Mode,
        LastInputSeconds = newer.LastInputSeconds ?? older.LastInputSeconds,
        Reason = newer.Reason ?? older.Reason,
        DeviceId = newer.DeviceId ?? older.DeviceId,
        Roles = newer.Roles.IsDefaultOrEmpty ? older.Roles : newer.Roles,
        Scopes = newer.Scopes.IsDefaultOrEmpty ? older.Scopes : newer.Scopes,
        Text = newer.Text.Length > 0 ? newer.Text : older.Text,
        Ts = newer.Ts,
    };

    /// <summary>
    /// The merged list as entries: <paramref name="self"/> first, then every other row newest first.
    /// Each node's self row is kept whatever the bound; other rows beyond it go oldest first.
    /// </summary>
    public static ImmutableArray<PresenceEntry> Merge(
        PresenceEntry self,
        IEnumerable<KeyValuePair<PresenceKey, PresenceEntry>> localRows,
        IEnumerable<NodeRows> nodes,
        int maxEntries)
    {
        var view = View(
            new PresenceRow(self, owner: null),
            localRows.Select(row => KeyValuePair.Create(row.Key, new PresenceRow(row.Value, owner: null))),
            nodes.Select(node => (node.Self is null ? null : new PresenceRow(node.Self, owner: null),
                node.Rows.Select(row => KeyValuePair.Create(row.Key, new PresenceRow(row.Value, owner: null))))),
            maxEntries);
        return view.Select(row => row.Entry).ToImmutableArray();
    }

    /// <summary>The merged list as stored rows, reusing a row (and its cached JSON) whenever one node alone has its key.</summary>
    internal static ImmutableArray<PresenceRow> View(
        PresenceRow self,
        IEnumerable<KeyValuePair<PresenceKey, PresenceRow>> localRows,
        IEnumerable<(PresenceRow? Self, IEnumerable<KeyValuePair<PresenceKey, PresenceRow>> Rows)> nodes,
        int maxEntries)
    {
        var placed = Place(self, localRows, nodes.Select(node => ("", node.Self, node.Rows)), maxEntries);
        var view = ImmutableArray.CreateBuilder<PresenceRow>(placed.Count);
        foreach (var row in placed)
            view.Add(row.Row);
        return view.MoveToImmutable();
    }

    /// <summary>
    /// The merged list, each row with where it comes from: its key (none for a self row) and the node whose version
    /// of the key is the newest (null: this node). <see cref="View"/> is this without the origins.
    /// </summary>
    internal static List<PlacedRow> Place(
        PresenceRow self,
        IEnumerable<KeyValuePair<PresenceKey, PresenceRow>> localRows,
        IEnumerable<(string Node, PresenceRow? Self, IEnumerable<KeyValuePair<PresenceKey, PresenceRow>> Rows)> nodes,
        int maxEntries)
    {
        var selves = new List<PlacedRow>();
        var byKey = new Dictionary<PresenceKey, PlacedRow>();
        foreach (var (key, row) in localRows)
            byKey[key] = new PlacedRow(row, key, null);
        foreach (var (node, nodeSelf, rows) in nodes)
        {
            if (nodeSelf is not null)
                selves.Add(new PlacedRow(nodeSelf, null, node));
            foreach (var (key, row) in rows)
            {
                var placed = new PlacedRow(row, key, node);
                byKey[key] = byKey.TryGetValue(key, out var seen) ? Newest(seen, placed) : placed;
            }
        }

        var others = byKey.Values.OrderByDescending(row => row.Row.Entry.Ts).ToList();
        // Self rows count toward the bound and are never evicted; the oldest of the others go first.
        var room = Math.Max(0, maxEntries - 1 - selves.Count);
        if (others.Count > room)
            others.RemoveRange(room, others.Count - room);
        others.AddRange(selves);

        var ordered = new List<PlacedRow>(others.Count + 1) { new(self, null, null) };
        ordered.AddRange(others.OrderByDescending(row => row.Row.Entry.Ts));
        return ordered;
    }

    /// <summary>Field-by-field equality, roles and scopes by content (a record compares arrays by reference); <c>ts</c> ignored.</summary>
    public static bool SameApartFromTs(PresenceEntry a, PresenceEntry b) =>
        a with { Ts = 0, Roles = [], Scopes = [] } == b with { Ts = 0, Roles = [], Scopes = [] }
        && SameItems(a.Roles, b.Roles)
        && SameItems(a.Scopes, b.Scopes);

    private static bool SameItems(ImmutableArray<string> a, ImmutableArray<string> b) =>
        a.IsDefaultOrEmpty ? b.IsDefaultOrEmpty : !b.IsDefaultOrEmpty && a.AsSpan().SequenceEqual(b.AsSpan());

    /// <summary>The newer of two nodes' versions of one key, which is also where the merged row comes from.</summary>
    private static PlacedRow Newest(PlacedRow a, PlacedRow b)
    {
        var (newer, older) = b.Row.Entry.Ts > a.Row.Entry.Ts ? (b, a) : (a, b);
        var combined = Combine(newer.Row.Entry, older.Row.Entry);
        // Nothing filled in from the older row: keep the newer one, and the JSON it already has.
        return SameApartFromTs(combined, newer.Row.Entry) ? newer : newer with { Row = new PresenceRow(combined, newer.Row.Owner) };
    }

    /// <summary>A row of the merged view with its key (null for a self row) and the id of the node it comes from (null: this node).</summary>
    internal readonly record struct PlacedRow(PresenceRow Row, PresenceKey? Key, string? Node);
}
