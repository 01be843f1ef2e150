using System.Net.WebSockets;
using Akka;
using Akka.Actor;
using Akka.Event;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Operators;

namespace Presence.Gateway.Connections;

/// <summary>
/// Parent of every <see cref="ConnectionActor"/>. It watches them (a stopped or
/// crashed connection is reported to the PresenceManager as a disconnect), and
/// it does the fan-out: each presence list and tick is built once and
/// offered straight to every socket's outbox, not through each child's mailbox.
/// Its sweeps stand in for per-connection timers: one finds the handshakes past
/// their deadline, one pings every authenticated socket and renews the rows of
/// those that answered the previous ping.
/// </summary>
internal sealed class ConnectionsSupervisorActor : UntypedActor, IWithTimers
{
    private const string TickTimer = "tick";
    private const string KeepAliveTimer = "keepalive";
    private const string HandshakeTimer = "handshake";

    /// <summary>A connection is told it timed out within a tenth of the timeout after its deadline, and within a second.</summary>
    private const int HandshakeSweepsPerTimeout = 10;

    private static readonly TimeSpan LongestHandshakeSweep = TimeSpan.FromSeconds(1);

    private readonly IActorRef _manager;
    private readonly ConnectionOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<ConnectionId, Connection> _connections = [];

    /// <summary>While the gateway stops: the connections that have not yet queued their close, and who waits for them all.</summary>
    private readonly HashSet<ConnectionId> _stopNoticePending = [];
    private readonly List<IActorRef> _stopWaiters = [];

    private (OutboundFrame Frame, long Version)? _latestPresence;
    private bool _stopping;

    public ConnectionsSupervisorActor(IActorRef manager, ConnectionOptions options)
    {
        _manager = manager;
        _options = options;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef manager, ConnectionOptions options) =>
        Akka.Actor.Props.Create(() => new ConnectionsSupervisorActor(manager, options));

    /// <summary>A connection that fails is stopped, never restarted: its handshake state cannot be rebuilt, and its socket is closed.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        _manager.Tell(new PresenceCommands.Subscribe(Self));
        Timers.StartPeriodicTimer(TickTimer, TickDue.Instance, _options.Gateway.TickInterval);
        Timers.StartPeriodicTimer(KeepAliveTimer, KeepAliveDue.Instance, _options.Gateway.PingInterval);
        var handshakeSweep = _options.Gateway.HandshakeTimeout / HandshakeSweepsPerTimeout;
        Timers.StartPeriodicTimer(HandshakeTimer, HandshakeSweepDue.Instance, handshakeSweep < LongestHandshakeSweep ? handshakeSweep : LongestHandshakeSweep);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Accept accept:
                OnAccept(accept);
                break;
            case ConnectionTracked tracked when _connections.TryGetValue(tracked.Id, out var connection):
                connection.Key = tracked.Key;
                connection.DisconnectReason = tracked.DisconnectReason;
                break;
            case ConnectionAuthenticated authenticated when _connections.TryGetValue(authenticated.Id, out var connection):
                OnAuthenticated(connection, authenticated);
                break;
            case PresenceEvents.PresenceChanged changed:
                OnPresenceChanged(changed.Snapshot);
                break;
            case TickDue:
                var tick = ServerFrames.Tick(Context.System.Scheduler.Now.ToUnixTimeMilliseconds());
                foreach (var connection in _connections.Values.Where(c => c.Authenticated))
                    connection.Client.Send(tick);
                break;
            case KeepAliveDue:
                // A socket that answered the previous ping is alive and its row is renewed; one that did not is dropped.
                foreach (var (id, connection) in _connections)
                {
                    if (connection.Authenticated && connection.Client.Ping() && connection.Key is { } key)
                        _manager.Tell(new PresenceCommands.Touch(key, id));
                }
                break;
            case HandshakeSweepDue:
                var deadline = Context.System.Scheduler.Now - _options.Gateway.HandshakeTimeout;
                foreach (var connection in _connections.Values)
                {
                    if (!connection.Authenticated && connection.AcceptedAt <= deadline)
                        connection.Actor.Tell(ConnectionActor.HandshakeTimedOut.Instance);
                }
                break;
            case ConnectionClosed closed:
                OnClosed(closed.Id);
                StopNoticeQueuedBy(closed.Id);
                break;
            case ShutdownAll:
                OnShutdown(Sender);
                break;
            case StopNoticeQueued queued:
                StopNoticeQueuedBy(queued.Id);
                break;
            case ConnectionTracked or ConnectionAuthenticated:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnAccept(Accept accept)
    {
        var client = accept.Connection;
        if (_stopping)
        {
            client.Close(CloseCodes.ServiceRestart, "service restart");
            // No actor will run this connection; attaching nobody lets its loops send the close and end.
            accept.Attach(ActorRefs.Nobody);
            return;
        }
        var id = client.Info.Id;
        var child = Context.ActorOf(ConnectionActor.Props(client, _manager, _options), $"conn-{id}");
        Context.WatchWith(child, new ConnectionClosed(id));
        _connections[id] = new Connection(client, child, Context.System.Scheduler.Now);
        GatewayMetrics.ConnectionOpened();
        accept.Attach(child);
    }

    private void OnAuthenticated(Connection connection, ConnectionAuthenticated authenticated)
    {
        connection.Authenticated = true;
        connection.ReadsPresence = authenticated.ReadsPresence;
        // A tracked reader hears of its own connect, as from the OpenClaw gateway; otherwise only of changes newer than its hello.
        if (authenticated.ReadsPresence && _latestPresence is { } latest
            && (latest.Version > authenticated.HelloVersion || (authenticated.Tracked && latest.Version == authenticated.HelloVersion)))
        {
            connection.Client.OfferPresence(latest.Frame);
        }
    }

    private void OnPresenceChanged(PresenceSnapshot snapshot)
    {
        var frame = ServerFrames.Presence(snapshot);
        _latestPresence = (frame, snapshot.StateVersion);
        foreach (var connection in _connections.Values)
        {
            if (connection.ReadsPresence)
                connection.Client.OfferPresence(frame);
        }
    }

    private void OnClosed(ConnectionId id)
    {
        if (!_connections.Remove(id, out var connection))
            return;
        GatewayMetrics.ConnectionClosed();
        if (connection.Key is { } key)
            _manager.Tell(new PresenceCommands.MarkDisconnected(key, id, connection.DisconnectReason!));
        // Normally the socket is already closed; after a crash of its actor this closes it.
        connection.Client.Close(WebSocketCloseStatus.InternalServerError, "gateway message handler unavailable");
    }

    private void OnShutdown(IActorRef waiter)
    {
        _stopWaiters.Add(waiter);
        if (!_stopping)
        {
            _stopping = true;
            _log.Info("Gateway stopping: closing {0} connections with 1012", _connections.Count);
            // Through each actor, not straight to the sockets: a connection whose hello-ok is out but whose
            // ConnectionAuthenticated is still on its way here would otherwise be closed without its shutdown event.
            foreach (var (id, connection) in _connections)
            {
                _stopNoticePending.Add(id);
                connection.Actor.Tell(ConnectionActor.GatewayStopping.Instance);
            }
        }
        AnswerStopWaitersWhenAllQueued();
    }

    private void StopNoticeQueuedBy(ConnectionId id)
    {
        if (_stopNoticePending.Remove(id))
            AnswerStopWaitersWhenAllQueued();
    }

    private void AnswerStopWaitersWhenAllQueued()
    {
        if (_stopNoticePending.Count > 0)
            return;
        foreach (var waiter in _stopWaiters)
            waiter.Tell(Done.Instance);
        _stopWaiters.Clear();
    }

    /// <summary>Hands a freshly upgraded socket to the supervisor, which creates its actor and tells the socket which one it is.</summary>
    public sealed class Accept(IClientConnection connection)
    {
        private readonly TaskCompletionSource<IActorRef> _actor = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IClientConnection Connection { get; } = connection;

        /// <summary>The connection's actor, once the supervisor has created it (<see cref="ActorRefs.Nobody"/> while the gateway stops).</summary>
        public Task<IActorRef> Actor => _actor.Task;

        internal void Attach(IActorRef actor) => _actor.TrySetResult(actor);
    }

    /// <summary>Sent by a connection whose row it owns, so that its close is reported even if it crashes.</summary>
    public sealed record ConnectionTracked(ConnectionId Id, PresenceKey Key, string DisconnectReason);

    /// <summary>Sent by a connection after its hello-ok: from now on it gets ticks, and presence lists if it may read them.</summary>
    public sealed record ConnectionAuthenticated(ConnectionId Id, bool ReadsPresence, bool Tracked, long HelloVersion);

    /// <summary>Sent on a graceful stop: every connection's actor is told to send <c>shutdown</c>, then close 1012; answered with <see cref="Done"/> once each has queued its close (or stopped).</summary>
    public sealed class ShutdownAll
    {
        public static readonly ShutdownAll Instance = new();

        private ShutdownAll()
        {
        }
    }

    /// <summary>A connection's answer to <see cref="ConnectionActor.GatewayStopping"/>: its close is queued on the socket.</summary>
    public sealed record StopNoticeQueued(ConnectionId Id);

    private sealed record ConnectionClosed(ConnectionId Id);

    private sealed class TickDue : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly TickDue Instance = new();

        private TickDue()
        {
        }
    }

    private sealed class KeepAliveDue : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly KeepAliveDue Instance = new();

        private KeepAliveDue()
        {
        }
    }

    private sealed class HandshakeSweepDue : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly HandshakeSweepDue Instance = new();

        private HandshakeSweepDue()
        {
        }
    }

    private sealed class Connection(IClientConnection client, IActorRef actor, DateTimeOffset acceptedAt)
    {
        public IClientConnection Client { get; } = client;
        public IActorRef Actor { get; } = actor;
        public DateTimeOffset AcceptedAt { get; } = acceptedAt;
        public PresenceKey? Key { get; set; }
        public string? DisconnectReason { get; set; }
        public bool Authenticated { get; set; }
        public bool ReadsPresence { get; set; }
    }
}
