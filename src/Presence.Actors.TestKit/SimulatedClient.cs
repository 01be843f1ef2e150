using System.Net;
using Presence.Actors.Domain;

namespace Presence.Actors.TestKit;

/// <summary>
/// Who a simulated client is: what its <c>connect</c> handshake and its <c>system-event</c> beacons
/// tell the gateway. <see cref="Name"/> is its host name (the handshake's display name and the host
/// in its beacon text).
/// </summary>
/// <param name="Name">The client's host name; also how the kit tells clients apart in its reports.</param>
public sealed record SimulatedClient(string Name)
{
    /// <summary>The handshake's <c>client.mode</c>; modes in <c>presence.untracked-modes</c> never become rows.</summary>
    public string Mode { get; init; } = "ui";

    /// <summary>The stable <c>client.instanceId</c>; null for a client without one, whose every connection is its own row.</summary>
    public string? InstanceId { get; init; }

    /// <summary><c>"node"</c> for a node (keyed by <see cref="DeviceId"/> first), else an operator.</summary>
    public string Role { get; init; } = "operator";

    /// <summary>The device id a node sends (<c>device.id</c>); it keys a node's row before its instance id.</summary>
    public string? DeviceId { get; init; }

    /// <summary>The handshake's <c>client.deviceFamily</c>.</summary>
    public string DeviceFamily { get; init; } = "Mac";

    /// <summary>The handshake's <c>client.platform</c>.</summary>
    public string Platform { get; init; } = "macos 15.1";

    /// <summary>The handshake's <c>client.version</c>, also in its beacon text.</summary>
    public string Version { get; init; } = "1.0.0";

    /// <summary>The address the gateway sees the client at and the one its beacons report.</summary>
    public string Ip { get; init; } = "10.0.0.1";

    /// <summary>A client with a stable instance id equal to its name: one row however often it reconnects.</summary>
    public static SimulatedClient Stable(string name) => new(name) { InstanceId = name };

    internal ConnectedClient Handshake(ConnectionId connection, bool withInstanceId) => new()
    {
        Connection = connection,
        ClientId = "presence-testkit",
        DisplayName = Name,
        InstanceId = withInstanceId ? InstanceId : null,
        Version = Version,
        Platform = Platform,
        DeviceFamily = DeviceFamily,
        Mode = Mode,
        Role = Role,
        DeviceId = DeviceId,
        Scopes = ["operator.read"],
        RemoteAddress = IPAddress.Parse(Ip),
    };

    /// <summary>A periodic beacon in the form the desktop apps send (the text carries host, ip, version and mode).</summary>
    internal Beacon PeriodicBeacon(bool withInstanceId) => new()
    {
        Text = $"Node: {Name} ({Ip}) · app {Version} · last input 0s ago · mode {Mode} · reason periodic",
        InstanceId = withInstanceId ? InstanceId : null,
        DeviceId = DeviceId,
        Platform = Platform,
        DeviceFamily = DeviceFamily,
    };
}
