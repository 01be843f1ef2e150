using System.Collections.Immutable;
using System.Net;

namespace Presence.Actors.Domain;

/// <summary>
/// What a successful <c>connect</c> handshake tells presence about one connection.
/// </summary>
public sealed record ConnectedClient
{
    public const string NodeRole = "node";

    public required ConnectionId Connection { get; init; }
    public required string ClientId { get; init; }
    public string? DisplayName { get; init; }
    public string? InstanceId { get; init; }
    public required string Version { get; init; }
    public required string Platform { get; init; }
    public string? DeviceFamily { get; init; }
    public string? ModelIdentifier { get; init; }
    public required string Mode { get; init; }
    public string Role { get; init; } = "operator";
    public string? DeviceId { get; init; }
    public ImmutableArray<string> Scopes { get; init; } = [];
    public IPAddress? RemoteAddress { get; init; }

    public bool IsNode => Role == NodeRole;

    public PresenceKey Key => PresenceKey.ForConnection(Connection, IsNode, DeviceId, InstanceId);

    /// <summary>
    /// Whether a beacon's <paramref name="instanceId"/> or <paramref name="deviceId"/> names this client: either one
    /// equals this connection's instanceId or device id, compared as presence keys are (trimmed, any letter case).
    /// </summary>
    public bool IsNamedBy(string? instanceId, string? deviceId) => Names(instanceId) || Names(deviceId);

    private bool Names(string? id) =>
        !string.IsNullOrWhiteSpace(id) && (SameId(id, InstanceId) || SameId(id, DeviceId));

    private static bool SameId(string id, string? own) =>
        !string.IsNullOrWhiteSpace(own) && PresenceKey.From(id) == PresenceKey.From(own);

    /// <summary>Untracked modes (one-off CLI calls by default) never become rows.</summary>
    public bool IsTracked(IReadOnlySet<string> untrackedModes) => !untrackedModes.Contains(Mode);

    public string DisconnectReason => IsNode ? "node-disconnected" : "disconnect";

    public PresenceUpdate ToUpdate() => new()
    {
        Host = PresenceKey.FirstNonBlank(DisplayName, ClientId),
        Ip = Loopback.PresenceIp(RemoteAddress),
        Version = Version,
        Platform = Platform,
        DeviceFamily = DeviceFamily,
        ModelIdentifier = ModelIdentifier,
        Mode = Mode,
        DeviceId = DeviceId,
        Roles = [Role],
        Scopes = Scopes,
        InstanceId = IsNode ? PresenceKey.FirstNonBlank(DeviceId, InstanceId) : InstanceId,
        Reason = IsNode ? "node-connected" : "connect",
    };
}
