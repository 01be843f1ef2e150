using BenchmarkDotNet.Attributes;
using Presence.Actors.Domain;

namespace Presence.Benchmarks;

/// <summary>
/// Snapshot of a full 200-row map: the newest-first sort into an array, and its JSON
/// when every row's JSON is already cached (only the join is paid).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class SnapshotBenchmarks
{
    private PresenceState _state = null!;
    private PresenceKey _changedKey;
    private PresenceUpdate _change = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _state = PresenceData.FullState();
        // Row JSON is cached on the rows, which every later state shares.
        _ = _state.ToSnapshot().Json;
        _changedKey = PresenceData.Key(17);
        _change = PresenceData.Periodic(17, 42);
        _now = PresenceData.Now + 1;
    }

    /// <summary>Sort by age and copy into the immutable arrays; no JSON.</summary>
    [Benchmark]
    public PresenceSnapshot ToSnapshot() => _state.ToSnapshot();

    /// <summary>A new snapshot of unchanged rows: sort plus joining 200 cached row JSONs.</summary>
    [Benchmark]
    public int ToSnapshotJsonAllRowsCached() => _state.ToSnapshot().Json.Length;

    /// <summary>
    /// What the manager pays per announced change: apply one beacon, snapshot, and
    /// serialise (one fresh row, 199 cached ones).
    /// </summary>
    [Benchmark]
    public int UpsertThenSnapshotJson() => _state.Upsert(_changedKey, _change, _now).ToSnapshot().Json.Length;
}
