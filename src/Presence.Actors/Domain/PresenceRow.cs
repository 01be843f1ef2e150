namespace Presence.Actors.Domain;

/// <summary>
/// A stored row: the entry, the connection that owns it (if any), and its JSON,
/// serialised at most once however many snapshots and recipients share it.
/// </summary>
internal sealed class PresenceRow(PresenceEntry entry, ConnectionId? owner)
{
    private byte[]? _json;

    public PresenceEntry Entry { get; } = entry;

    /// <summary>The connection whose close may mark this row disconnected; beacons keep it.</summary>
    public ConnectionId? Owner { get; } = owner;

    // A benign race: two readers may both serialise, and both get identical bytes.
    public byte[] Json => _json ??= PresenceJson.Serialize(Entry);
}
