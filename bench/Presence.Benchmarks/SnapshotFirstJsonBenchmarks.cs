using BenchmarkDotNet.Attributes;

namespace Presence.Benchmarks;

/// <summary>
/// Steady state: a snapshot (sort + array) and its JSON, taken just after one beacon
/// changed one row of a 200-row map whose previous snapshot was already serialised.
/// One row is written afresh; the other 199 come from the per-row JSON cache.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10, invocationCount: PoolSize)]
public class SnapshotOneRowChangedBenchmarks
{
    // States share all rows but one with the base, so a large pool costs little memory;
    // it keeps an iteration well above the timer's noise at ~20-100 µs per invocation.
    public const int PoolSize = 4096;

    private readonly StatePool _pool = new(PoolSize);

    [IterationSetup]
    public void Fill()
    {
        var warm = PresenceData.FullState();
        _ = warm.ToSnapshot().Json;
        _pool.Fill(i =>
        {
            var row = i % PresenceData.OtherRows;
            return warm.Upsert(PresenceData.Key(row), PresenceData.Periodic(row, i), PresenceData.Now + 1 + i);
        });
    }

    [Benchmark]
    public int ToSnapshotJson() => _pool.Take().ToSnapshot().Json.Length;
}

/// <summary>
/// Cold: the first snapshot JSON of a 200-row map none of whose rows was ever written,
/// as after start-up or when every row changed between two snapshots.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10, invocationCount: PoolSize)]
public class SnapshotColdBenchmarks
{
    // Each state is a full map of its own (~100 KB); 256 of them keep memory modest.
    public const int PoolSize = 256;

    private readonly StatePool _pool = new(PoolSize);

    [IterationSetup]
    public void Fill() => _pool.Fill(i => PresenceData.FullState(seed: i));

    [Benchmark]
    public int ToSnapshotJson() => _pool.Take().ToSnapshot().Json.Length;
}
