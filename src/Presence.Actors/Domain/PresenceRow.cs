namespace Presence.Actors.Domain;

/// <summary>
/// A stored row: the entry, the connection that owns it (if any), and its JSON,
/// serialised at most once however many snapshots and recipients share it.
/// </summary>
internal sealed class PresenceRow(PresenceEntry entry, ConnectionId? owner, long written = 0)
{
    private byte[]? _json;

    public PresenceEntry Entry { get; } = entry;

    /// <summary>The connection whose close may mark this row disconnected; beacons keep it.</summary>
    public ConnectionId? Owner { get; } = owner;

    /// <summary>Where this write falls among the writes of its <see cref="PresenceState"/>: orders rows of the same <c>ts</c>.</summary>
    public long Written { get; } = written;

    public RowAge Age => new(Entry.Ts, Written);

    // A benign race: two readers may both serialise, and both get identical bytes.
    public byte[] Json => _json ??= PresenceJson.Serialize(Entry);
}

/// <summary>
/// Orders rows oldest first: by <c>ts</c>, then in the order they were written, so that rows stamped in the same
/// millisecond (a burst, or virtual time) are evicted and listed in one order whatever the map's hashing does.
/// </summary>
internal readonly record struct RowAge(long Ts, long Written) : IComparable<RowAge>
{
    /// <summary>The reverse order, for sorting newest first.</summary>
    public RowAge Reversed => new(-Ts, -Written);

    public int CompareTo(RowAge other) => Ts != other.Ts ? Ts.CompareTo(other.Ts) : Written.CompareTo(other.Written);
}
