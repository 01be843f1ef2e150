using BenchmarkDotNet.Attributes;
using Presence.Actors.Domain;

namespace Presence.Benchmarks;

/// <summary>
/// Merge cost per beacon on a full 200-row map: resolving the beacon (text parse, key,
/// patch) and applying it with <see cref="PresenceState.Upsert"/>. The parts are also
/// measured alone so that the total can be read as parse + merge.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class BeaconMergeBenchmarks
{
    private PresenceState _state = null!;
    private Beacon _structured = null!;
    private Beacon _text = null!;
    private PresenceKey _resolvedKey;
    private PresenceUpdate _resolvedUpdate = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _state = PresenceData.FullState();
        _now = PresenceData.Now + 1;
        // Explicit fields, keyed by instance id; its text is free-form, so the parse fails.
        _structured = new Beacon
        {
            Text = "node-0017 heartbeat",
            InstanceId = PresenceData.Name(17),
            Host = PresenceData.Name(17),
            Ip = PresenceData.IpOf(17),
            Mode = "ui",
            Version = "2026.9.6",
            Reason = "periodic",
            LastInputSeconds = 42,
            Roles = ["operator"],
            Tags = ["periodic"],
        };
        // Only text, as older nodes send it: every field and the key come from the parse.
        _text = new Beacon { Text = PresenceData.TextBeacon(17, 42) };
        (_resolvedKey, _resolvedUpdate) = _text.Resolve();
        if (_state.Find(_resolvedKey) is null || _state.Find(_structured.Resolve().Key) is null)
            throw new InvalidOperationException("Both beacons must update an existing row.");
    }

    [Benchmark]
    public (PresenceKey Key, PresenceUpdate Update) ResolveStructured() => _structured.Resolve();

    [Benchmark]
    public (PresenceKey Key, PresenceUpdate Update) ResolveText() => _text.Resolve();

    /// <summary>The map update alone, with a beacon resolved beforehand.</summary>
    [Benchmark]
    public PresenceState UpsertResolved() => _state.Upsert(_resolvedKey, _resolvedUpdate, _now);

    [Benchmark]
    public PresenceState MergeStructured()
    {
        var (key, update) = _structured.Resolve();
        return _state.Upsert(key, update, _now);
    }

    [Benchmark]
    public PresenceState MergeText()
    {
        var (key, update) = _text.Resolve();
        return _state.Upsert(key, update, _now);
    }
}
