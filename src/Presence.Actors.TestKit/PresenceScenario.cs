using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;

namespace Presence.Actors.TestKit;

/// <summary>
/// A simulation of presence clients against the real <see cref="PresenceManagerActor"/>, in virtual time.
/// Describe the clients and their scripts, then <see cref="RunAsync(TimeSpan)"/>: the run owns its actor system
/// (with Akka's <see cref="TestScheduler"/>), so it needs no TestKit base class and no socket, and the same
/// seed gives the same run, event for event.
/// </summary>
public sealed class PresenceScenario
{
    /// <summary>Where the gateway clock starts by default: a fixed instant, so that every <c>ts</c> is the same from run to run.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The simulated gateway's own row (its <c>ts</c> is the manager's clock).</summary>
    public static readonly PresenceEntry GatewaySelf =
        SelfEntry.Create("simulated-gateway", "192.0.2.1", "0.0.0-simulation", "linux 6.1", "Linux", "simulated-gateway", 0);

    private const string Dispatcher = "presence-testkit.calling-thread-dispatcher";

    private static readonly Config KitConfig = ConfigurationFactory.ParseString($$"""
        akka.scheduler.implementation = "{{typeof(TestScheduler).AssemblyQualifiedName}}"
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        # The manager, its announcement stream and the readers run on the thread that drives the simulation:
        # a told command is applied before Tell returns, so no step waits for a thread and the order of
        # everything is the seed's (the stream's channel wake-ups go through SimulationTaskScheduler).
        akka.stream.materializer.dispatcher = {{Dispatcher}}
        {{Dispatcher}} {
          type = "Akka.TestKit.CallingThreadDispatcherConfigurator, Akka.TestKit"
          throughput = 2147483647
        }
        """);

    private readonly int _seed;
    private readonly List<(SimulatedClient Client, ClientScript Script)> _clients = [];
    private readonly HashSet<string> _names = [];
    private string _hocon = "";
    private int _readers = 1;
    private bool _keepEveryList = true;
    private TimeSpan _sampleEvery = TimeSpan.FromMinutes(1);
    private TimeSpan? _step;
    private DateTimeOffset _start = DefaultStart;

    private PresenceScenario(int seed) => _seed = seed;

    /// <summary>A scenario whose every random choice (connect times, jitter) comes from <paramref name="seed"/>.</summary>
    public static PresenceScenario Create(int seed = 1) => new(seed);

    /// <summary>HOCON over the shipped <c>presence.hocon</c> defaults, read by <see cref="PresenceSettings"/> as the gateway reads it (e.g. <c>presence.ttl = 2m</c>).</summary>
    public PresenceScenario WithSettings(string hocon)
    {
        _hocon = hocon;
        return this;
    }

    /// <summary>Adds one client; without a script it connects at the start and stays connected, silent.</summary>
    public PresenceScenario Client(SimulatedClient client, Action<ClientScript>? script = null)
    {
        if (!_names.Add(client.Name))
            throw new ArgumentException($"a client named '{client.Name}' is already in the scenario", nameof(client));
        var plan = new ClientScript();
        script?.Invoke(plan);
        _clients.Add((client, plan));
        return this;
    }

    /// <summary>Adds <paramref name="count"/> clients, the i-th described by <paramref name="client"/>(i) and scripted by <paramref name="script"/>(i, script).</summary>
    public PresenceScenario Clients(int count, Func<int, SimulatedClient> client, Action<int, ClientScript>? script = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        for (var i = 0; i < count; i++)
        {
            var index = i;
            Client(client(i), script is null ? null : plan => script(index, plan));
        }
        return this;
    }

    /// <summary>
    /// How many operators read presence (subscribers told of every change, as the gateway's connections are); one by default.
    /// With <paramref name="keepEveryList"/> false each reader keeps only a count and its last list, which a long run with many clients needs.
    /// </summary>
    public PresenceScenario Readers(int count, bool keepEveryList = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        (_readers, _keepEveryList) = (count, keepEveryList);
        return this;
    }

    /// <summary>How often the timeline samples the list (one virtual minute by default).</summary>
    public PresenceScenario SampleEvery(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _sampleEvery = interval;
        return this;
    }

    /// <summary>
    /// How far virtual time moves per step while things happen (the broadcast interval by default, so that a
    /// coalesced event goes out on time). In quiet stretches the clock jumps to the next client action, sample or
    /// periodic timer (sweep, keep-alive), never further than the shortest of those intervals: Akka's TestScheduler
    /// fires a periodic timer at most once per advance. A client action is applied at the start of the step it falls in.
    /// </summary>
    public PresenceScenario StepBy(TimeSpan step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(step, TimeSpan.Zero);
        _step = step;
        return this;
    }

    /// <summary>Starts the gateway clock at <paramref name="start"/> instead of <see cref="DefaultStart"/> (it must not be in the past).</summary>
    public PresenceScenario StartingAt(DateTimeOffset start)
    {
        _start = start;
        return this;
    }

    /// <summary>Runs the scenario for <paramref name="duration"/> of virtual time and returns what it observed.</summary>
    /// <remarks>The simulation itself runs on the calling thread; the task completes once its actor system has stopped.</remarks>
    public async Task<PresenceSimulationResult> RunAsync(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        var config = ConfigurationFactory.ParseString(_hocon).WithFallback(KitConfig).WithFallback(PresenceSettings.DefaultConfig);
        var settings = PresenceSettings.Create(config);
        var system = ActorSystem.Create("presence-simulation", config);
        try
        {
            var clock = (TestScheduler)system.Scheduler;
            if (_start < clock.Now)
                throw new InvalidOperationException($"the simulation cannot start at {_start:O}, which is before the scheduler's clock ({clock.Now:O})");
            clock.AdvanceTo(_start);
            // A top-level actor starts asynchronously, through its guardian; the host's children start on the calling thread.
            var host = system.ActorOf(Props.Create(() => new Host()).WithDispatcher(Dispatcher), "simulation");
            await host.Ask<ActorIdentity>(new Identify(null), settings.AskTimeout).ConfigureAwait(false);
            var tasks = new SimulationTaskScheduler();
            return tasks.Run(() => Simulate(host, clock, tasks, settings, duration));
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    private PresenceSimulationResult Simulate(IActorRef host, TestScheduler clock, SimulationTaskScheduler tasks, PresenceSettings settings, TimeSpan duration)
    {
        var start = clock.Now;
        Func<TimeSpan> elapsedNow = () => clock.Now - start;
        IActorRef Start(Props props, string name)
        {
            var started = host.Ask<IActorRef>(new Host.Start(props.WithDispatcher(Dispatcher), name), settings.AskTimeout);
            tasks.RunPending();
            return started.IsCompletedSuccessfully ? started.Result : throw new InvalidOperationException($"'{name}' did not start on the simulation's thread");
        }

        var manager = Start(PresenceManagerActor.Props(settings, GatewaySelf), "presence-manager");
        var answer = new StrongBox<PresenceSnapshot?>();
        var listReader = Start(Props.Create(() => new ListReader(answer)), "list-reader");
        var readers = new List<PresenceReaderLog>();
        var rows = new RowTracker((long)settings.Ttl.TotalMilliseconds, start, _keepEveryList);
        for (var i = 0; i < _readers; i++)
        {
            var log = new PresenceReaderLog(_keepEveryList);
            if (i == 0)
                log.Received += rows.Observe;
            readers.Add(log);
            var reader = Start(Props.Create(() => new SimulatedReader(log, elapsedNow)), $"reader-{i}");
            manager.Tell(new PresenceCommands.Subscribe(reader));
        }
        tasks.RunPending();

        PresenceSnapshot Read()
        {
            manager.Tell(PresenceQueries.GetPresence.Instance, listReader);
            tasks.RunPending();
            var list = answer.Value ?? throw new InvalidOperationException("the manager did not answer on the simulation's thread");
            answer.Value = null;
            return list;
        }

        var fleet = new SimulatedFleet(_clients, _seed, settings.UntrackedModes);
        var (busyStep, quietStep) = Steps(settings);
        var timeline = new List<TimelineSample>();
        var nextSample = TimeSpan.Zero;
        long eventsAtLastSample = 0;
        long eventsBefore = 0;
        while (true)
        {
            var elapsed = elapsedNow();
            var told = fleet.RunUntil((long)elapsed.TotalMilliseconds, command =>
            {
                manager.Tell(command, ActorRefs.NoSender);
                tasks.RunPending();
            });
            var events = readers.Count > 0 ? readers[0].Count : 0;
            if (elapsed >= nextSample || elapsed >= duration)
            {
                timeline.Add(Sample(elapsed, Read(), clock.Now.ToUnixTimeMilliseconds(), events - eventsAtLastSample));
                eventsAtLastSample = events;
                nextSample += _sampleEvery;
            }
            if (elapsed >= duration)
                break;
            // After a change an announcement may be held back for the broadcast interval: step finely. Otherwise only
            // periodic timers can fire, so jump to the next client action, sample or periodic timer, whichever is first.
            var busy = told > 0 || events != eventsBefore;
            var next = elapsed + (busy ? busyStep : quietStep);
            if (!busy)
                next = Min(Min(next, fleet.NextAt), nextSample);
            clock.Advance(Min(next, duration) - elapsed);
            tasks.RunPending();
            eventsBefore = events;
        }

        // The list at the end, once an announcement still held back for its broadcast interval has gone out: the clock
        // moves on by that interval (a few times at most: a read may expire rows, a change the readers hear of next).
        var final = Read();
        for (var attempt = 0; attempt < 3 && readers.Any(reader => reader.Last?.StateVersion != final.StateVersion); attempt++)
        {
            clock.Advance(settings.BroadcastInterval);
            tasks.RunPending();
            final = Read();
        }
        return new PresenceSimulationResult(settings, start, duration, final, readers, timeline, rows, fleet.Counts);
    }

    /// <summary>
    /// The step after a change (the broadcast interval, unless <see cref="StepBy"/> says otherwise) and the longest
    /// step that still fires every periodic timer on time: the sweep, and each client's keep-alive.
    /// </summary>
    private (TimeSpan Busy, TimeSpan Quiet) Steps(PresenceSettings settings)
    {
        var quiet = settings.SweepInterval;
        foreach (var (_, script) in _clients)
        {
            if (script.PingInterval > TimeSpan.Zero)
                quiet = Min(quiet, script.PingInterval);
        }
        return (Min(_step ?? settings.BroadcastInterval, quiet), quiet);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimelineSample Sample(TimeSpan at, PresenceSnapshot list, long nowMs, long events)
    {
        Span<int> byStatus = stackalloc int[4];
        foreach (var row in list.Entries)
            byStatus[(int)PresenceStatuses.Of(row, nowMs)]++;
        return new TimelineSample(at, list, byStatus[(int)PresenceStatus.Active], byStatus[(int)PresenceStatus.Idle],
            byStatus[(int)PresenceStatus.Stale], byStatus[(int)PresenceStatus.Left], events);
    }

    /// <summary>Takes the manager's answers to the kit's reads; runs on the simulation's thread like everything else.</summary>
    private sealed class ListReader(StrongBox<PresenceSnapshot?> answer) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is PresenceQueries.GetPresenceResponse response)
                answer.Value = response.Snapshot;
            else
                Unhandled(message);
        }
    }

    /// <summary>The parent of every actor of a run: a child starts on the thread that asks for it, before the answer.</summary>
    private sealed class Host : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is Start start)
                Sender.Tell(Context.ActorOf(start.Props, start.Name));
            else
                Unhandled(message);
        }

        public sealed record Start(Props Props, string Name);
    }
}
