using System.Collections.Immutable;

namespace Presence.Actors.Domain;

/// <summary>
/// One row of the presence list, with the wire field names of the OpenClaw
/// <c>PresenceEntry</c>. Absent values are null (or an empty array) and are
/// left out of the JSON.
/// </summary>
public sealed record PresenceEntry
{
    public string? InstanceId { get; init; }
    public string? Host { get; init; }
    public string? Ip { get; init; }
    public string? Version { get; init; }
    public string? Platform { get; init; }
    public string? DeviceFamily { get; init; }
    public string? ModelIdentifier { get; init; }
    public string? Mode { get; init; }
    public long? LastInputSeconds { get; init; }
    public string? Reason { get; init; }
    public string? DeviceId { get; init; }
    public ImmutableArray<string> Roles { get; init; } = [];
    public ImmutableArray<string> Scopes { get; init; } = [];
    public string Text { get; init; } = "";

    /// <summary>Gateway clock (ms since the Unix epoch) at the row's last update.</summary>
    public long Ts { get; init; }
}
