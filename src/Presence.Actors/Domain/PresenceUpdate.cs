using System.Collections.Immutable;

namespace Presence.Actors.Domain;

/// <summary>
/// A patch to one presence row, produced by a connect or by a beacon. Null fields
/// keep the existing value; roles and scopes are unioned into the existing ones.
/// The gateway's clock, not the client, supplies the row's <c>ts</c>.
/// </summary>
public sealed record PresenceUpdate
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
    public bool ClearLastInputSeconds { get; init; }
    public string? Reason { get; init; }
    public string? DeviceId { get; init; }
    public ImmutableArray<string> Roles { get; init; } = [];
    public ImmutableArray<string> Scopes { get; init; } = [];
    public string? Text { get; init; }

    /// <summary>Applies this patch to <paramref name="existing"/> (or to an empty row) at gateway time <paramref name="now"/>.</summary>
    public PresenceEntry ApplyTo(PresenceEntry? existing, long now)
    {
        var host = Host ?? existing?.Host;
        var mode = Mode ?? existing?.Mode;
        return new PresenceEntry
        {
            InstanceId = InstanceId ?? existing?.InstanceId,
            Host = host,
            Ip = Ip ?? existing?.Ip,
            Version = Version ?? existing?.Version,
            Platform = Platform ?? existing?.Platform,
            DeviceFamily = DeviceFamily ?? existing?.DeviceFamily,
            ModelIdentifier = ModelIdentifier ?? existing?.ModelIdentifier,
            Mode = mode,
            LastInputSeconds = ClearLastInputSeconds ? null : LastInputSeconds ?? existing?.LastInputSeconds,
            Reason = Reason ?? existing?.Reason,
            DeviceId = DeviceId ?? existing?.DeviceId,
            Roles = Union(existing?.Roles ?? [], Roles),
            Scopes = Union(existing?.Scopes ?? [], Scopes),
            Text = Text ?? existing?.Text ?? $"Node: {host ?? "unknown"} · mode {mode ?? "unknown"}",
            Ts = now,
        };
    }

    /// <summary>Most roles or scopes one row keeps: unions only grow, so without a cap repeated beacons could grow a row without bound.</summary>
    public const int MaxRolesOrScopes = 32;

    private static ImmutableArray<string> Union(ImmutableArray<string> existing, ImmutableArray<string> added)
    {
        if (added.IsDefaultOrEmpty)
            return existing;
        var builder = existing.IsDefault ? ImmutableArray.CreateBuilder<string>() : existing.ToBuilder();
        foreach (var value in added)
        {
            if (builder.Count == MaxRolesOrScopes)
                break;
            if (!builder.Contains(value))
                builder.Add(value);
        }
        return !existing.IsDefault && builder.Count == existing.Length ? existing : builder.ToImmutable();
    }
}
