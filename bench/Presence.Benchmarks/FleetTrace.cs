using Presence.Actors.Domain;

namespace Presence.Benchmarks;

internal enum FleetCommandKind : byte
{
    Connect,
    Beacon,
    Disconnect,
}

/// <summary>What reads each announcement: nothing (no subscriber), a reader of the list (a simulation's), or of its JSON (a gateway connection).</summary>
internal enum FleetReaders : byte
{
    None,
    Lists,
    Frames,
}

/// <summary>One command as the PresenceManager would receive it, at gateway time <see cref="At"/>.</summary>
internal readonly record struct FleetCommand(long At, FleetCommandKind Kind, PresenceKey Key, ConnectionId Owner, PresenceUpdate? Update);

/// <summary>What one replay did, so that a run can be checked against another and nothing is optimised away.</summary>
internal readonly record struct FleetReplay(int Commands, int Sweeps, int Snapshots, long Version, long Evicted, long Read);

/// <summary>
/// Issue 13's fleet as a trace of PresenceManager commands, replayed on <see cref="PresenceState"/> alone (no actor,
/// no scheduler), to measure what the engine costs per command. Clients connect at a random time in the first
/// minute and send a beacon every 60 s ± 10 s; 5 % of them flap: a third of their beacon times is a disconnect
/// instead, followed by a reconnect 1–5 s later on a new connection, and half of the flapping clients have no
/// stable instanceId, so each reconnect is a new row. Everything comes from one seeded random: a seed gives one trace.
/// </summary>
/// <remarks>
/// With 10,000 clients and the 200-row bound almost every command is a key the map no longer holds, so almost every
/// command inserts a row and evicts the oldest: the path the bound exists for, here as the steady state.
/// The replay adds what the manager's timers do: a sweep every <c>presence.sweep-interval</c> and, when there are
/// readers, one announcement per <c>presence.broadcast-interval</c> step that saw a visible change (the snapshot, which
/// the coalescing stream takes at most once per step, read as a list or as its JSON).
/// </remarks>
internal sealed class FleetTrace
{
    public const int FleetClients = 10_000;
    public const double FlappingShare = 0.05;

    private static readonly PresenceLimits Limits = PresenceData.Settings.Limits;
    private static readonly long SweepMs = (long)PresenceData.Settings.SweepInterval.TotalMilliseconds;
    private static readonly long StepMs = (long)PresenceData.Settings.BroadcastInterval.TotalMilliseconds;

    private FleetTrace(long start, FleetCommand[] commands)
    {
        Start = start;
        Commands = commands;
    }

    public long Start { get; }

    public FleetCommand[] Commands { get; }

    /// <summary>The trace of <paramref name="clients"/> clients over <paramref name="minutes"/> virtual minutes, cut at <paramref name="maxCommands"/> if given.</summary>
    public static FleetTrace Generate(int clients, int minutes, int seed = 13, int maxCommands = int.MaxValue)
    {
        var random = new Random(seed);
        var start = PresenceData.Now;
        var end = start + (minutes * 60_000L);
        var commands = new List<(FleetCommand Command, int Order)>();
        void Add(FleetCommand command) => commands.Add((command, commands.Count));
        for (var client = 0; client < clients; client++)
        {
            var name = $"fleet-{client:D5}";
            var flapping = random.NextDouble() < FlappingShare;
            var stable = !flapping || random.Next(2) == 0;
            var beacon = new PresenceUpdate
            {
                LastInputSeconds = random.Next(0, 600),
                Reason = "periodic",
                Text = $"Node: {name} (10.2.{client / 250}.{(client % 250) + 1}) · app 2026.9.6 · mode ui · reason periodic",
            };
            var connection = 0;
            ConnectionId Owner() => new($"{name}-conn-{connection}");
            PresenceKey Key() => PresenceKey.From(stable ? name : Owner().Value);
            PresenceUpdate Connect() => PresenceData.Connect(name, stable ? name : null, $"10.2.{client / 250}.{(client % 250) + 1}");

            var at = start + random.Next(0, 60_000);
            Add(new FleetCommand(at, FleetCommandKind.Connect, Key(), Owner(), Connect()));
            while (true)
            {
                at += 60_000 + random.Next(-10_000, 10_001);
                if (at >= end)
                    break;
                if (flapping && random.Next(3) == 0)
                {
                    Add(new FleetCommand(at, FleetCommandKind.Disconnect, Key(), Owner(), null));
                    connection++;
                    at += random.Next(1_000, 5_001);
                    if (at >= end)
                        break;
                    Add(new FleetCommand(at, FleetCommandKind.Connect, Key(), Owner(), Connect()));
                }
                else
                {
                    Add(new FleetCommand(at, FleetCommandKind.Beacon, Key(), Owner(), beacon));
                }
            }
        }
        // By time, then in the order generated: the trace is the same for a seed whatever the sort does with ties.
        var ordered = commands.OrderBy(c => c.Command.At).ThenBy(c => c.Order).Select(c => c.Command).Take(maxCommands).ToArray();
        return new FleetTrace(start, ordered);
    }

    /// <summary>
    /// Applies every command to a state that starts with the self row alone, sweeping on the sweep interval, and, with
    /// <paramref name="readers"/>, taking the snapshot once per broadcast step in which the version moved.
    /// </summary>
    public FleetReplay Replay(FleetReaders readers)
    {
        var state = PresenceState.Create(PresenceData.Self(Start), Limits);
        var nextSweep = Start + SweepMs;
        var stepEnd = Start + StepMs;
        var announced = state.Version;
        int sweeps = 0, snapshots = 0;
        long read = 0;
        foreach (var command in Commands)
        {
            while (command.At >= stepEnd)
            {
                if (stepEnd >= nextSweep)
                {
                    state = state.Sweep(nextSweep);
                    nextSweep += SweepMs;
                    sweeps++;
                }
                if (readers != FleetReaders.None && state.Version != announced)
                {
                    var snapshot = state.ToSnapshot();
                    read += readers == FleetReaders.Frames ? snapshot.Json.Length : snapshot.Entries.Length;
                    announced = state.Version;
                    snapshots++;
                }
                stepEnd += StepMs;
            }
            state = command.Kind switch
            {
                FleetCommandKind.Disconnect => state.MarkDisconnected(command.Key, command.Owner, "disconnect", command.At),
                _ => state.Upsert(command.Key, command.Update!, command.At, command.Kind == FleetCommandKind.Connect ? command.Owner : null),
            };
        }
        return new FleetReplay(Commands.Length, sweeps, snapshots, state.Version, state.Evicted, read);
    }
}
