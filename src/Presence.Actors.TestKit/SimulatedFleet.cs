using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;

namespace Presence.Actors.TestKit;

/// <summary>
/// Every simulated client's next action, in one queue ordered by virtual time (ties by the order they were
/// planned, so that a seed gives one order). Each action is told to the manager (through <c>tell</c>, which
/// returns once the manager and its announcement stream are done with it) as the gateway tells it:
/// a handshake's <see cref="PresenceCommands.Upsert"/> owned by its connection, a beacon through
/// <see cref="Beacon.Resolve"/>, a pong's <see cref="PresenceCommands.Touch"/>, a close's <see cref="PresenceCommands.MarkDisconnected"/>.
/// </summary>
internal sealed class SimulatedFleet
{
    private readonly List<ClientRun> _clients = [];
    private readonly PriorityQueue<Planned, (long AtMs, long Order)> _plan = new();
    private readonly Random _random;
    private readonly IReadOnlySet<string> _untrackedModes;
    private long _order;

    public SimulatedFleet(IEnumerable<(SimulatedClient Client, ClientScript Script)> clients, int seed, IReadOnlySet<string> untrackedModes)
    {
        _random = new Random(seed);
        _untrackedModes = untrackedModes;
        foreach (var (client, script) in clients)
        {
            var index = _clients.Count;
            _clients.Add(new ClientRun(client, script));
            var connectAt = Ms(script.ConnectTime) + (script.ConnectWindow > TimeSpan.Zero ? _random.NextInt64(Ms(script.ConnectWindow)) : 0);
            Plan(connectAt, index, Action.Connect);
            foreach (var (at, action) in script.OneOffs)
                Plan(Ms(at), index, action switch
                {
                    ScriptedAction.Disconnect => Action.Disconnect,
                    ScriptedAction.Reconnect => Action.Reconnect,
                    ScriptedAction.ReconnectWithoutInstanceId => Action.ReconnectWithoutInstanceId,
                    ScriptedAction.GoSilent => Action.GoSilent,
                    _ => Action.BeaconOnce,
                });
        }
    }

    public SimulationCounts Counts { get; } = new();

    /// <summary>When the next action is planned (since the start), or <see cref="TimeSpan.MaxValue"/> when none is.</summary>
    public TimeSpan NextAt => _plan.TryPeek(out _, out var when) ? TimeSpan.FromMilliseconds(when.AtMs) : TimeSpan.MaxValue;

    /// <summary>Runs every action planned up to <paramref name="untilMs"/> (since the start), in order; returns how many ran.</summary>
    public int RunUntil(long untilMs, Action<object> tell)
    {
        var ran = 0;
        while (_plan.TryPeek(out var next, out var when) && when.AtMs <= untilMs)
        {
            _plan.Dequeue();
            Run(next, when.AtMs, tell);
            ran++;
        }
        return ran;
    }

    private void Run(Planned planned, long atMs, Action<object> tell)
    {
        var client = _clients[planned.Client];
        var current = planned.Generation == client.Generation && client.Connection is not null && !client.Silent;
        switch (planned.Action)
        {
            case Action.Connect:
                Connect(client, planned.Client, atMs, tell, client.WithInstanceId);
                if (client.Script.Flaps is { } flaps)
                    Plan(atMs + Jittered(flaps.Every, flaps.Jitter), planned.Client, Action.FlapDown, client.Generation);
                break;
            case Action.Reconnect or Action.ReconnectWithoutInstanceId when client.Connection is null || client.Silent:
                // A silent client that wakes up opens a new connection; its old one never closed.
                Connect(client, planned.Client, atMs, tell, planned.Action == Action.Reconnect);
                break;
            case Action.Disconnect when client.Connection is not null && !client.Silent:
                Disconnect(client, tell);
                break;
            case Action.GoSilent:
                client.Silent = true;
                break;
            case Action.BeaconOnce when client.Connection is not null && !client.Silent:
                Beacon(client, tell);
                break;
            case Action.Beacon when current:
                Beacon(client, tell);
                Plan(atMs + Jittered(client.Script.BeaconInterval, client.Script.BeaconJitter), planned.Client, Action.Beacon, client.Generation);
                break;
            case Action.Ping when current:
                tell(new PresenceCommands.Touch(client.Connection!.Key, client.Connection.Connection));
                Counts.Pongs++;
                Plan(atMs + Ms(client.Script.PingInterval), planned.Client, Action.Ping, client.Generation);
                break;
            case Action.FlapDown when current:
                var flapping = client.Script.Flaps!;
                Disconnect(client, tell);
                Plan(atMs + Ms(flapping.Offline), planned.Client, Action.FlapUp);
                break;
            case Action.FlapUp when client.Connection is null && !client.Silent:
                var flap = client.Script.Flaps!;
                Connect(client, planned.Client, atMs, tell, flap.KeepInstanceId && client.WithInstanceId);
                Plan(atMs + Jittered(flap.Every, flap.Jitter), planned.Client, Action.FlapDown, client.Generation);
                break;
        }
    }

    private void Connect(ClientRun client, int index, long atMs, Action<object> tell, bool withInstanceId)
    {
        client.Generation++;
        client.Silent = false;
        client.WithInstanceId = withInstanceId;
        var handshake = client.Who.Handshake(new ConnectionId($"{client.Who.Name}#{client.Generation}"), withInstanceId);
        client.Connection = handshake;
        var (key, update) = client.Who.PeriodicBeacon(withInstanceId).Resolve();
        // A beacon's text and fields never change here, so one resolved command serves every beacon of this connection.
        client.BeaconCommand = new PresenceCommands.Upsert(key, update);
        client.Tracked = handshake.IsTracked(_untrackedModes);
        if (client.Tracked)
            tell(new PresenceCommands.Upsert(handshake.Key, handshake.ToUpdate(), handshake.Connection));
        Counts.Connects++;
        if (client.Script.BeaconInterval > TimeSpan.Zero)
            Plan(atMs + Jittered(client.Script.BeaconInterval, client.Script.BeaconJitter), index, Action.Beacon, client.Generation);
        if (client.Script.PingInterval > TimeSpan.Zero)
            Plan(atMs + Ms(client.Script.PingInterval), index, Action.Ping, client.Generation);
    }

    private void Disconnect(ClientRun client, Action<object> tell)
    {
        var connection = client.Connection!;
        if (client.Tracked)
            tell(new PresenceCommands.MarkDisconnected(connection.Key, connection.Connection, connection.DisconnectReason));
        client.Connection = null;
        Counts.Disconnects++;
    }

    private void Beacon(ClientRun client, Action<object> tell)
    {
        tell(client.BeaconCommand!);
        Counts.Beacons++;
    }

    private void Plan(long atMs, int client, Action action, int generation = 0) =>
        _plan.Enqueue(new Planned(client, action, generation), (atMs, _order++));

    private long Jittered(TimeSpan interval, TimeSpan jitter)
    {
        var spread = Ms(jitter);
        return Math.Max(1, Ms(interval) + (spread == 0 ? 0 : _random.NextInt64(-spread, spread + 1)));
    }

    private static long Ms(TimeSpan span) => (long)span.TotalMilliseconds;

    private enum Action : byte
    {
        Connect,
        Beacon,
        Ping,
        FlapDown,
        FlapUp,
        Disconnect,
        Reconnect,
        ReconnectWithoutInstanceId,
        GoSilent,
        BeaconOnce,
    }

    private readonly record struct Planned(int Client, Action Action, int Generation);

    private sealed class ClientRun(SimulatedClient who, ClientScript script)
    {
        public SimulatedClient Who { get; } = who;
        public ClientScript Script { get; } = script;
        public int Generation { get; set; }
        public bool WithInstanceId { get; set; } = true;
        public bool Silent { get; set; }
        public bool Tracked { get; set; }
        public ConnectedClient? Connection { get; set; }
        public PresenceCommands.Upsert? BeaconCommand { get; set; }
    }
}

/// <summary>What the simulated clients did over a run.</summary>
public sealed class SimulationCounts
{
    /// <summary>Successful handshakes, reconnects included.</summary>
    public long Connects { get; internal set; }

    /// <summary>Closes the gateway saw (a client that falls silent never closes).</summary>
    public long Disconnects { get; internal set; }

    /// <summary>Periodic and one-off <c>system-event</c> beacons sent.</summary>
    public long Beacons { get; internal set; }

    /// <summary>Pongs to the gateway's keep-alive pings, each renewing the client's row.</summary>
    public long Pongs { get; internal set; }
}
