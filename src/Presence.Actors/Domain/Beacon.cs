using System.Collections.Immutable;

namespace Presence.Actors.Domain;

/// <summary>
/// A validated <c>system-event</c> beacon. Explicit fields win over fields parsed
/// from <see cref="Text"/>, which win over the existing row.
/// </summary>
public sealed record Beacon
{
    /// <summary>Tag that removes <c>lastInputSeconds</c> from the row, even when the beacon carries one.</summary>
    public const string ClearLastInputTag = "system-presence-clear-last-input";

    /// <summary>How much of a free-text beacon keys its row when nothing better identifies it.</summary>
    public const int FreeTextKeyLength = 64;

    public required string Text { get; init; }
    public string? DeviceId { get; init; }
    public string? InstanceId { get; init; }
    public string? Host { get; init; }
    public string? Ip { get; init; }
    public string? Mode { get; init; }
    public string? Version { get; init; }
    public string? Platform { get; init; }
    public string? DeviceFamily { get; init; }
    public string? ModelIdentifier { get; init; }
    public string? Reason { get; init; }
    public long? LastInputSeconds { get; init; }
    public ImmutableArray<string> Roles { get; init; } = [];
    public ImmutableArray<string> Scopes { get; init; } = [];
    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>Parses the text once and gives the row this beacon updates and the patch it applies.</summary>
    /// <param name="sender">
    /// The tracked connection the beacon came over, if any: when the beacon's <c>instanceId</c> or <c>deviceId</c>
    /// names that client, it updates the connection's row, whichever of the two the row is keyed by (one client, one row).
    /// </param>
    public (PresenceKey Key, PresenceUpdate Update) Resolve(ConnectedClient? sender = null)
    {
        var parsed = BeaconText.Parse(Text);
        var key = sender is not null && sender.IsNamedBy(InstanceId, DeviceId) ? sender.Key : Key(parsed);
        return (key, ToUpdate(parsed));
    }

    /// <summary>Any other beacon: device id, instance id, parsed host, ip, then the start of the text.</summary>
    private PresenceKey Key(BeaconText? parsed)
    {
        var text = Text.Trim();
        return PresenceKey.From(PresenceKey.FirstNonBlank(
            DeviceId, InstanceId, parsed?.Host, Blank(Ip) ?? parsed?.Ip,
            text.Length > FreeTextKeyLength ? text[..FreeTextKeyLength] : text)!);
    }

    private PresenceUpdate ToUpdate(BeaconText? parsed) => new()
    {
        Text = Text.Trim(),
        DeviceId = Blank(DeviceId),
        InstanceId = Blank(InstanceId),
        Host = Blank(Host) ?? parsed?.Host,
        Ip = Blank(Ip) ?? parsed?.Ip,
        Version = Blank(Version) ?? parsed?.Version,
        Mode = Blank(Mode) ?? parsed?.Mode,
        Reason = Blank(Reason) ?? parsed?.Reason,
        Platform = Blank(Platform),
        DeviceFamily = Blank(DeviceFamily),
        ModelIdentifier = Blank(ModelIdentifier),
        LastInputSeconds = LastInputSeconds ?? parsed?.LastInputSeconds,
        ClearLastInputSeconds = Tags.Contains(ClearLastInputTag, StringComparer.Ordinal),
        Roles = Roles,
        Scopes = Scopes,
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
