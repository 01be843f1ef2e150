namespace Presence.Actors.Domain;

/// <summary>
/// Where one row of the list comes from, for operator views (the protocol's entry has no field for it): its presence
/// key (none for a gateway's own row, which is not in the map) and the node whose version of the row is shown.
/// <see cref="Ts"/>, <see cref="InstanceId"/> and <see cref="Text"/> are the row's own, so that a reader can pair this with
/// its entry: rows without an instanceId written in the same millisecond differ only by their text.
/// </summary>
public sealed record PresenceOrigin(PresenceKey? Key, string Node, long Ts, string? InstanceId, string? Text);

/// <summary>A cluster member as operators see it: its address (<c>host:port</c>), its membership status (lower case) and whether this node reaches it.</summary>
public sealed record PresenceNode(string Address, string Status, bool Reachable);
