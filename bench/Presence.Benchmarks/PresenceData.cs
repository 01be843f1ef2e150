using Akka.Configuration;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;

namespace Presence.Benchmarks;

/// <summary>
/// Realistic rows for the benchmarks: every row is a connected app with the fields a
/// mac app sends on connect, so row JSON is the size the gateway really serialises.
/// A row's key, instance id and host are the same name, so that a structured beacon
/// (by instance id) and a <c>Node: ...</c> text beacon (by parsed host) both hit it.
/// </summary>
internal static class PresenceData
{
    /// <summary>
    /// The values shipped in <c>hocon/presence.hocon</c> (200-row bound, 100 ms broadcast interval, ...),
    /// read through <see cref="PresenceSettings.Create"/> so that they are validated as in production.
    /// </summary>
    /// <remarks>
    /// Spelled out rather than taken from <see cref="PresenceSettings.DefaultConfig"/>: with Akka 1.5.73,
    /// the file's <c>key = ${?ENV}</c> overrides blank every key when the variable is unset, and
    /// <c>Create(DefaultConfig)</c> throws because a config cannot be its own fallback.
    /// </remarks>
    public static readonly PresenceSettings Settings = PresenceSettings.Create(ConfigurationFactory.ParseString("""
        presence {
          ttl = 5m
          max-entries = 200
          untracked-modes = ["cli"]
          sweep-interval = 10s
          broadcast-interval = 100ms
          ask-timeout = 3s
        }
        """));

    /// <summary>Rows besides the self row in a full map.</summary>
    public static int OtherRows => Settings.MaxEntries - 1;

    /// <summary>A fixed clock (2026-09-06), so that no row is ever near the TTL during a run.</summary>
    public const long Now = 1_788_652_800_000;

    public static PresenceEntry Self(long now) =>
        SelfEntry.Create("gateway-01", "10.0.0.1", "0.1.0", "linux 6.1.0", "Linux", "5b0f3c8e-2f4d-4f4e-9c1e-0d7a1b2c3d4e", now);

    public static string Name(int i) => $"node-{i:D4}";

    public static PresenceKey Key(int i) => PresenceKey.From(Name(i));

    public static string IpOf(int i) => $"10.1.{i / 250}.{(i % 250) + 1}";

    public static PresenceUpdate Connect(int i) => Connect(Name(i), Name(i), IpOf(i));

    /// <summary>A mac app's connect as host <paramref name="host"/>, with or without a stable instance id.</summary>
    public static PresenceUpdate Connect(string host, string? instanceId, string ip) => new()
    {
        InstanceId = instanceId,
        Host = host,
        Ip = ip,
        Version = "2026.9.6",
        Platform = "macos 15.1",
        DeviceFamily = "Mac",
        ModelIdentifier = "MacBookPro18,3",
        Mode = "ui",
        Reason = "connect",
        Roles = ["operator"],
        Scopes = ["operator.read", "operator.write"],
    };

    /// <summary>A periodic beacon as the manager receives it: a new idle time, reason and text.</summary>
    public static PresenceUpdate Periodic(int i, long lastInputSeconds) => new()
    {
        LastInputSeconds = lastInputSeconds,
        Reason = "periodic",
        Text = TextBeacon(i, lastInputSeconds),
    };

    public static string TextBeacon(int i, long lastInputSeconds) =>
        $"Node: {Name(i)} ({IpOf(i)}) · app 2026.9.6 · last input {lastInputSeconds}s ago · mode ui · reason periodic";

    /// <summary>
    /// A full map (the bound, self row included). Rows get distinct timestamps in a
    /// shuffled order, so that the newest-first sort of a snapshot does real work.
    /// </summary>
    public static PresenceState FullState(int seed = 42)
    {
        var state = PresenceState.Create(Self(Now), Settings.Limits);
        var ages = Enumerable.Range(0, OtherRows).ToArray();
        new Random(seed).Shuffle(ages);
        for (var i = 0; i < OtherRows; i++)
            state = state.Upsert(Key(i), Connect(i), Now - (ages[i] * 1_000L), new ConnectionId($"conn-{i}"));
        return state.Count == Settings.MaxEntries
            ? state
            : throw new InvalidOperationException($"Expected a full map of {Settings.MaxEntries} rows, got {state.Count}.");
    }
}
