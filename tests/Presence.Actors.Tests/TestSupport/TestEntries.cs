using System.Net;
using Presence.Actors.Domain;

namespace Presence.Actors.Tests.TestSupport;

/// <summary>Builders for the domain values the specs feed the engine; each spec overrides only what it is about.</summary>
internal static class TestEntries
{
    /// <summary>An arbitrary gateway clock reading (ms since the epoch), far from zero so that "older than TTL" is never negative.</summary>
    public const long T0 = 1_795_630_000_000;

    public const long FiveMinutesMs = 5 * 60 * 1000;

    public const string SelfInstanceId = "self-instance";

    public static PresenceEntry Self(long now = T0, string? ip = "192.0.2.2") =>
        SelfEntry.Create("gw-host", ip, "1.0.0", "linux 6.1", "Linux", SelfInstanceId, now);

    public static PresenceState State(long ttlMs = FiveMinutesMs, int maxEntries = 200, long selfTs = T0) =>
        PresenceState.Create(Self(selfTs), new PresenceLimits(ttlMs, maxEntries));

    public static PresenceKey Key(string raw) => PresenceKey.From(raw);

    public static PresenceUpdate Update(string? host = null, string? mode = null, string? text = null) =>
        new() { Host = host, Mode = mode, Text = text };

    /// <summary>Upserts one row per key, each one millisecond newer than the last, starting at <paramref name="firstTs"/>.</summary>
    public static PresenceState WithRows(this PresenceState state, IEnumerable<string> keys, long firstTs)
    {
        var ts = firstTs;
        foreach (var key in keys)
            state = state.Upsert(Key(key), Update(host: key), ts++);
        return state;
    }

    public static ConnectedClient Client(
        string connection = "conn-1",
        string? instanceId = null,
        string mode = "ui",
        string role = "operator",
        string? deviceId = null,
        string? remote = null,
        string? displayName = "Probe-UI-Host") => new()
        {
            Connection = new ConnectionId(connection),
            ClientId = "test",
            DisplayName = displayName,
            InstanceId = instanceId,
            Version = "1.2.3",
            Platform = "macos 15.1",
            DeviceFamily = "Mac",
            ModelIdentifier = "Mac15,3",
            Mode = mode,
            Role = role,
            DeviceId = deviceId,
            Scopes = ["operator.read"],
            RemoteAddress = remote is null ? null : IPAddress.Parse(remote),
        };

    /// <summary>Applies a connect the way the gateway does: the row is claimed by the connection.</summary>
    public static PresenceState Connect(this PresenceState state, ConnectedClient client, long now) =>
        state.Upsert(client.Key, client.ToUpdate(), now, client.Connection);

    public static PresenceState Disconnect(this PresenceState state, ConnectedClient client, long now) =>
        state.MarkDisconnected(client.Key, client.Connection, client.DisconnectReason, now);

    /// <summary>Applies a beacon the way the gateway does: no owner, so the row keeps the one it has (a sender: the tracked connection it came over).</summary>
    public static PresenceState Apply(this PresenceState state, Beacon beacon, long now, ConnectedClient? sender = null)
    {
        var (key, update) = beacon.Resolve(sender);
        return state.Upsert(key, update, now);
    }

    public static PresenceEntry Row(this PresenceState state, string key) =>
        state.Find(Key(key)) ?? throw new InvalidOperationException($"no row under '{key}'");
}

/// <summary>Beacon texts taken verbatim from the live captures in <c>spec/captures</c>.</summary>
internal static class Beacons
{
    /// <summary>02-08-system-event-node-text.json: the full <c>Node:</c> form, no other field.</summary>
    public const string NodeText = "Node: nodehost (10.9.8.7) · app 1.2.3 · last input 17s ago · mode ui · reason launch";

    /// <summary>02-13-system-event-free-text.json: no key field at all.</summary>
    public const string FreeText = "   just some free text event   ";

    /// <summary>02-07-system-event-structured.json: text plus every structured field.</summary>
    public static Beacon Structured() => new()
    {
        Text = "probe beacon one",
        InstanceId = "Probe-UI-Instance-1",
        Host = "beacon-host",
        Ip = "10.1.2.3",
        LastInputSeconds = 42,
        Mode = "ui",
        Reason = "periodic",
        Version = "9.9.9",
        Platform = "macos 15.1",
        DeviceFamily = "Mac",
        ModelIdentifier = "Mac15,3",
        Roles = ["operator"],
        Scopes = ["operator.read"],
    };

    /// <summary>02-09-system-event-merge-partial.json: same key in another case, reason and a role only.</summary>
    public static Beacon MergePartial() => new()
    {
        Text = "probe beacon two",
        InstanceId = "probe-ui-instance-1",
        Reason = "heartbeat",
        Roles = ["node"],
    };

    /// <summary>02-10-system-event-clear-last-input.json: a value and the tag that clears it.</summary>
    public static Beacon ClearLastInput() => new()
    {
        Text = "probe beacon three",
        InstanceId = "probe-ui-instance-1",
        LastInputSeconds = 5,
        Tags = [Beacon.ClearLastInputTag],
    };

    public static Beacon Text(string text) => new() { Text = text };
}
