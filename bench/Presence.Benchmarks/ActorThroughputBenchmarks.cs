using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using Presence.Actors.PresenceManager;
using static Presence.Actors.PresenceManager.PresenceCommands;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Benchmarks;

/// <summary>
/// Upserts per second through one <see cref="PresenceManagerActor"/> holding a full
/// 200-row map. Each invocation tells <see cref="Upserts"/> messages and then asks for
/// the list once: the actor answers only after its mailbox has drained, so the time
/// covers every upsert. Per-op time is the reciprocal of upserts/s.
/// Messages are built once in setup, so the numbers are the actor's cost, not the sender's.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class ActorThroughputBenchmarks : IDisposable
{
    public const int Upserts = 100_000;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    // Logging off: a benchmark run must not pay for, or be slowed by, console output.
    private static readonly Config SystemConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        """);

    private ActorSystem? _system;
    private IActorRef _plain = ActorRefs.Nobody;
    private IActorRef _subscribed = ActorRefs.Nobody;
    private IActorRef _evicting = ActorRefs.Nobody;
    private Upsert[] _beacons = [];
    private Upsert[] _newKeys = [];

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench", SystemConfig);
        _plain = FilledManager("plain");
        _subscribed = FilledManager("subscribed");
        _subscribed.Tell(new Subscribe(_system.ActorOf(Props.Create(() => new DropActor()), "subscriber")));
        _evicting = FilledManager("evicting");

        // Beacon-style updates on the existing rows, round-robin over every row.
        _beacons = new Upsert[PresenceData.OtherRows];
        for (var i = 0; i < _beacons.Length; i++)
            _beacons[i] = new Upsert(PresenceData.Key(i), PresenceData.Periodic(i, i));

        // One distinct key per upsert: every one is new to the map (the rows of the previous
        // invocation are long evicted), so every upsert takes the eviction path.
        _newKeys = new Upsert[Upserts];
        for (var i = 0; i < _newKeys.Length; i++)
            _newKeys[i] = new Upsert(PresenceData.Key(1_000_000 + i), PresenceData.Connect(1_000_000 + i));

        // The subscription is in the mailbox behind the fills; one read proves it is in place.
        _ = Read(_subscribed).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>Periodic beacons on existing rows, nobody subscribed.</summary>
    [Benchmark(OperationsPerInvoke = Upserts)]
    public Task<int> UpsertExisting()
    {
        for (var i = 0; i < Upserts; i++)
            _plain.Tell(_beacons[i % _beacons.Length]);
        return Read(_plain);
    }

    /// <summary>The same, with one subscriber: includes change detection and coalesced announcements.</summary>
    [Benchmark(OperationsPerInvoke = Upserts)]
    public Task<int> UpsertExistingWithSubscriber()
    {
        for (var i = 0; i < Upserts; i++)
            _subscribed.Tell(_beacons[i % _beacons.Length]);
        return Read(_subscribed);
    }

    /// <summary>New keys into a full map: every upsert evicts the oldest row.</summary>
    [Benchmark(OperationsPerInvoke = Upserts)]
    public Task<int> UpsertNewKeyEvicting()
    {
        foreach (var upsert in _newKeys)
            _evicting.Tell(upsert);
        return Read(_evicting);
    }

    public void Dispose()
    {
        _system?.Terminate().Wait(AskTimeout);
        _system?.Dispose();
        _system = null;
        GC.SuppressFinalize(this);
    }

    private IActorRef FilledManager(string name)
    {
        var manager = _system!.ActorOf(PresenceManagerActor.Props(PresenceData.Settings, PresenceData.Self(PresenceData.Now)), name);
        for (var i = 0; i < PresenceData.OtherRows; i++)
            manager.Tell(new Upsert(PresenceData.Key(i), PresenceData.Connect(i)));
        var rows = Read(manager).GetAwaiter().GetResult();
        return rows == PresenceData.Settings.MaxEntries
            ? manager
            : throw new InvalidOperationException($"Expected a full map of {PresenceData.Settings.MaxEntries} rows, got {rows}.");
    }

    private static async Task<int> Read(IActorRef manager)
    {
        var response = await manager.Ask<GetPresenceResponse>(GetPresence.Instance, AskTimeout).ConfigureAwait(false);
        return response.Snapshot.Entries.Length;
    }

    /// <summary>A subscriber that costs nothing, so that only the manager's side of notification is measured.</summary>
    private sealed class DropActor : UntypedActor
    {
        protected override void OnReceive(object message)
        {
        }
    }
}
