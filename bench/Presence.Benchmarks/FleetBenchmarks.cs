using BenchmarkDotNet.Attributes;

namespace Presence.Benchmarks;

/// <summary>
/// Issue 13's fleet (10,000 clients, beacons every 60 s ± 10 s, 5 % flapping) replayed on <see cref="Presence.Actors.Domain.PresenceState"/>
/// alone: the first <see cref="Commands"/> commands of the trace (about 9.5 virtual minutes), with the sweeps, and with no
/// reader or one announcement per 100 ms step, read as a list or as JSON. Times and allocations are per command.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class FleetBenchmarks
{
    public const int Commands = 100_000;

    private FleetTrace _trace = null!;

    [GlobalSetup]
    public void Setup()
    {
        _trace = FleetTrace.Generate(FleetTrace.FleetClients, minutes: 10, maxCommands: Commands);
        if (_trace.Commands.Length != Commands)
            throw new InvalidOperationException($"The trace has {_trace.Commands.Length} commands, not {Commands}.");
    }

    /// <summary>Commands and sweeps only: what the manager pays per command when no one reads.</summary>
    [Benchmark(OperationsPerInvoke = Commands)]
    public long Replay() => _trace.Replay(FleetReaders.None).Version;

    /// <summary>Plus the snapshot once per 100 ms step that changed, read as a list: a simulation's reader.</summary>
    [Benchmark(OperationsPerInvoke = Commands)]
    public long ReplayWithAnnouncements() => _trace.Replay(FleetReaders.Lists).Read;

    /// <summary>Plus the snapshot's JSON: a gateway connection's reader.</summary>
    [Benchmark(OperationsPerInvoke = Commands)]
    public long ReplayWithFrames() => _trace.Replay(FleetReaders.Frames).Read;
}
