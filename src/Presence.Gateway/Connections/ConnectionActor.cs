using System.Net.WebSockets;
using Akka.Actor;
using Akka.Event;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Operators;
using Presence.Gateway.Protocol;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Gateway.Connections;

/// <summary>
/// The one owner of a client connection: every inbound frame comes to it, in order, and it alone
/// answers the client. It runs the handshake, holds the client's identity and scopes, sends the
/// client's presence to the PresenceManager as <c>Upsert</c>s, and asks the manager for every list it
/// answers with. Requests are answered strictly in the order they came, reads included: while the
/// manager owes an answer, later frames wait their turn.
/// </summary>
internal sealed class ConnectionActor : UntypedActor
{
    private const int MaxUnauthorizedRoleCalls = 10;
    private const int RetryAfterBusyMs = 100;

    private static readonly ReadOnlyMemory<byte> BeaconAccepted = "{\"ok\":true}"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> EmptyObject = "{}"u8.ToArray();

    private readonly IClientConnection _connection;
    private readonly IActorRef _manager;
    private readonly ConnectionOptions _options;
    private Queue<InboundFrame>? _waiting;
    private ConnectedClient? _client;
    private int _unauthorizedRoleCalls;

    public ConnectionActor(IClientConnection connection, IActorRef manager, ConnectionOptions options)
    {
        _connection = connection;
        _manager = manager;
        _options = options;
    }

    // Not the expression-tree overload: Akka would compile or interpret that expression for every connection.
    public static Props Props(IClientConnection connection, IActorRef manager, ConnectionOptions options)
    {
        var props = Akka.Actor.Props.Create<ConnectionActor>(connection, manager, options).WithMailbox(ConnectionMailbox.Path);
        return options.Gateway.ConnectionDispatcher is { } dispatcher ? props.WithDispatcher(dispatcher) : props;
    }

    private static long Now => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    private GatewaySettings Settings => _options.Gateway;

    private PeerInfo Info => _connection.Info;

    protected override void PreStart()
    {
        GatewayMetrics.ConnectionActorStarted();
        _connection.Send(ServerFrames.Challenge(Guid.NewGuid().ToString(), Now));
    }

    protected override void PostStop() => GatewayMetrics.ConnectionActorStopped();

    /// <summary>Before <c>connect</c>: the first frame must be one.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case InboundFrame frame:
                OnFirstFrame(frame);
                _connection.FrameHandled();
                break;
            default:
                BeforeHello(message);
                break;
        }
    }

    /// <summary>Admitted, waiting for the manager's list for hello-ok; frames sent meanwhile wait, up to a bound.</summary>
    private void Connecting(object message)
    {
        switch (message)
        {
            case HelloReady ready:
                OnHelloReady(ready);
                break;
            case InboundFrame when _waiting?.Count >= Settings.MaxPendingHandshakeFrames:
                _connection.FrameHandled();
                FailHandshake("too_many_pending_frames", WebSocketCloseStatus.PolicyViolation, "too many pending handshake frames");
                break;
            case InboundFrame frame:
                Wait(frame);
                break;
            default:
                BeforeHello(message);
                break;
        }
    }

    /// <summary>After hello-ok: each frame is a request, answered before the next one is read.</summary>
    private void Connected(object message)
    {
        switch (message)
        {
            case InboundFrame frame:
                OnRequest(frame);
                _connection.FrameHandled();
                break;
            default:
                AfterHello(message);
                break;
        }
    }

    /// <summary>The manager owes the answer to a read: frames that come meanwhile wait, so answers keep the requests' order.</summary>
    private void AwaitingManager(object message)
    {
        switch (message)
        {
            case ManagerAnswer answer:
                _options.Admission.RequestEnded();
                _connection.Send(answer.Payload is { } payload
                    ? ServerFrames.Ok(answer.RequestId, payload)
                    : ServerFrames.Error(answer.RequestId, GatewayErrors.Unavailable("presence is unavailable; retry shortly", 1000)));
                Become(Connected);
                HandleWaiting();
                break;
            case InboundFrame frame:
                Wait(frame);
                break;
            default:
                AfterHello(message);
                break;
        }
    }

    /// <summary>A close is queued: nothing more is answered; the actor stops when the socket is gone.</summary>
    private void Closing(object message)
    {
        switch (message)
        {
            case InboundFrame:
                _connection.FrameHandled();
                break;
            case ManagerAnswer:
                _options.Admission.RequestEnded();
                break;
            case HelloReady or HandshakeTimedOut:
                break;
            case GatewayStopping:
                ReportStopNoticeQueued();
                break;
            default:
                OnLifecycle(message);
                break;
        }
    }

    /// <summary>What the two phases before hello-ok share: the supervisor's sweep may find the handshake past its deadline.</summary>
    private void BeforeHello(object message)
    {
        switch (message)
        {
            case HandshakeTimedOut:
                FailHandshake("timeout", WebSocketCloseStatus.NormalClosure, "");
                break;
            case GatewayStopping:
                // A client without hello-ok has no event stream yet: it only hears the close.
                CloseForRestart();
                break;
            default:
                OnLifecycle(message);
                break;
        }
    }

    /// <summary>What the two phases after hello-ok share: a handshake deadline found late is moot, and a stop is announced.</summary>
    private void AfterHello(object message)
    {
        switch (message)
        {
            case HandshakeTimedOut:
                break;
            case GatewayStopping:
                // A client past hello-ok hears shutdown before the close, as from the OpenClaw gateway, so it reconnects.
                _connection.Send(ServerFrames.Shutdown);
                CloseForRestart();
                break;
            default:
                OnLifecycle(message);
                break;
        }
    }

    private void CloseForRestart()
    {
        Close(CloseCodes.ServiceRestart, "service restart");
        ReportStopNoticeQueued();
    }

    /// <summary>Counts the failed handshake by <paramref name="reason"/> and closes the socket.</summary>
    private void FailHandshake(string reason, WebSocketCloseStatus status, string closeReason)
    {
        GatewayMetrics.HandshakeFailed(reason);
        Close(status, closeReason);
    }

    /// <summary>The supervisor holds the gateway's stop until every connection has queued its close: stopping actors first would lose it.</summary>
    private void ReportStopNoticeQueued() => Context.Parent.Tell(new ConnectionsSupervisorActor.StopNoticeQueued(Info.Id));

    private void OnLifecycle(object message)
    {
        switch (message)
        {
            case SocketClosed:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Wait(InboundFrame frame) => (_waiting ??= new Queue<InboundFrame>()).Enqueue(frame);

    /// <summary>Handles the frames that waited, in order, until one of them makes the actor wait again (or close).</summary>
    private void HandleWaiting()
    {
        while (_waiting is { Count: > 0 } waiting)
        {
            var waits = OnRequest(waiting.Dequeue());
            _connection.FrameHandled();
            if (waits)
                return;
        }
        _waiting = null;
    }

    private void OnFirstFrame(InboundFrame frame)
    {
        switch (frame)
        {
            case MalformedJsonFrame:
                FailHandshake("malformed_json", WebSocketCloseStatus.NormalClosure, "");
                break;
            case InvalidFrame:
                FailHandshake("invalid_frame", WebSocketCloseStatus.PolicyViolation, "invalid request frame");
                break;
            case RequestFrame { Method: not "connect" } request:
                Reject(request.Id, new ConnectDecision.Reject(GatewayErrors.InvalidHandshake(), WebSocketCloseStatus.PolicyViolation, GatewayErrors.InvalidHandshake().Message));
                break;
            case RequestFrame request:
                Connect(request);
                break;
        }
    }

    private void Connect(RequestFrame request)
    {
        if (!ConnectParamsValidator.TryValidate(request.Params, out var parameters, out var invalid))
        {
            var error = GatewayErrors.InvalidConnectParams(invalid!);
            Reject(request.Id, new ConnectDecision.Reject(error, WebSocketCloseStatus.PolicyViolation, error.Message));
            return;
        }
        int? retryAfterMs = _options.Admission.IsAuthRateLimited(Info.RemoteAddress, out var retryAfter) ? retryAfter : null;
        switch (ConnectPolicy.Decide(parameters!, Info, Settings, retryAfterMs))
        {
            case ConnectDecision.Reject reject:
                if (reject.AuthFailed)
                    _options.Admission.AuthFailed(Info.RemoteAddress);
                Reject(request.Id, reject);
                break;
            default:
                Admit(request.Id, parameters!);
                break;
        }
    }

    private void Admit(string requestId, ConnectParams parameters)
    {
        var client = ClientOf(parameters);
        _client = client;
        var tracked = client.IsTracked(_options.UntrackedModes);
        if (tracked)
        {
            // The row is written before the list is asked for, so the client's own hello-ok already shows it.
            _manager.Tell(new PresenceCommands.Upsert(client.Key, client.ToUpdate(), Info.Id));
            Context.Parent.Tell(new ConnectionsSupervisorActor.ConnectionTracked(Info.Id, client.Key, client.DisconnectReason));
        }
        _manager.Ask<GetPresenceResponse>(GetPresence.Instance, _options.AskTimeout)
            .PipeTo(Self, success: response => new HelloReady(requestId, tracked, response.Snapshot), failure: _ => new HelloReady(requestId, tracked, null));
        Become(Connecting);
    }

    private void OnHelloReady(HelloReady ready)
    {
        if (ready.Snapshot is null)
        {
            _connection.Send(ServerFrames.Error(ready.RequestId, GatewayErrors.Unavailable("gateway busy; retry shortly", 1000)));
            FailHandshake("unavailable", CloseCodes.TryAgainLater, "gateway busy");
            return;
        }
        var client = _client!;
        var readsPresence = ReadsPresence(client);
        var hello = new HelloOk(
            _options.ServerVersion,
            Info.Id.Value,
            client.Role,
            client.Scopes,
            ready.Snapshot.StateVersion,
            Now,
            Now - _options.StartedAt,
            Settings.MaxPayload,
            Settings.MaxBufferedBytes,
            (long)Settings.TickInterval.TotalMilliseconds);
        _connection.Send(ServerFrames.HelloOk(ready.RequestId, hello, readsPresence ? ready.Snapshot.Json : ServerFrames.EmptyPresence));
        _connection.HandshakeCompleted(Settings.MaxPayload);
        GatewayMetrics.HandshakeSucceeded();
        Context.Parent.Tell(new ConnectionsSupervisorActor.ConnectionAuthenticated(Info.Id, readsPresence, ready.Tracked, ready.Snapshot.StateVersion));
        Become(Connected);
        HandleWaiting();
    }

    private ConnectedClient ClientOf(ConnectParams parameters) => new()
    {
        Connection = Info.Id,
        ClientId = parameters.Client.Id,
        DisplayName = parameters.Client.DisplayName,
        InstanceId = parameters.Client.InstanceId,
        Version = parameters.Client.Version,
        Platform = parameters.Client.Platform,
        DeviceFamily = parameters.Client.DeviceFamily,
        ModelIdentifier = parameters.Client.ModelIdentifier,
        Mode = parameters.Client.Mode,
        Role = parameters.Role,
        DeviceId = parameters.Device?.Id,
        Scopes = parameters.Scopes,
        RemoteAddress = Info.RemoteAddress,
    };

    private static bool ReadsPresence(ConnectedClient client) => !client.IsNode && Scopes.Satisfies(client.Scopes, Scopes.Read);

    /// <summary>Handles one request; true when the actor now waits for the manager, so the next frame waits too.</summary>
    private bool OnRequest(InboundFrame frame)
    {
        switch (frame)
        {
            case InvalidFrame invalid:
                _connection.Send(ServerFrames.Error(invalid));
                return false;
            case RequestFrame request:
                return OnMethod(request);
            default:
                // Malformed JSON is ignored after hello, as the OpenClaw gateway does.
                return false;
        }
    }

    private bool OnMethod(RequestFrame request)
    {
        switch (request.Method)
        {
            case "connect":
                _connection.Send(ServerFrames.Error(request.Id, GatewayErrors.ConnectOnlyFirst()));
                break;
            case "health":
                _connection.Send(ServerFrames.Ok(request.Id, writer =>
                {
                    writer.WriteStartObject();
                    ServerFrames.WriteHealth(writer, Now, Now - _options.StartedAt);
                    writer.WriteEndObject();
                }));
                break;
            case "system-presence":
                return Authorized(request, Scopes.Read) && AskManager<GetPresenceResponse>(request.Id, GetPresence.Instance, response => response.Snapshot.Json);
            case InstancesMethod.Name:
                if (!Authorized(request, Scopes.Read))
                    break;
                if (DeviceMethods.InvalidParams(request.Method, request.Params) is { } invalid)
                {
                    _connection.Send(ServerFrames.Error(request.Id, GatewayErrors.InvalidMethodParams(invalid)));
                    break;
                }
                return AskManager<GetPresenceOriginsResponse>(request.Id, GetPresenceOrigins.Instance, InstancesMethod.Payload);
            case "system-event":
                if (Authorized(request, Scopes.Admin))
                    AcceptBeacon(request);
                break;
            case "status" or "config.get":
                if (Authorized(request, Scopes.Read))
                    _connection.Send(ServerFrames.Ok(request.Id, EmptyObject));
                break;
            case var method when DeviceMethods.RequiredScope(method) is { } scope:
                if (Authorized(request, scope))
                    _connection.Send(DeviceMethods.Answer(method, request.Params, Now, out var payload) is { } refusal ? ServerFrames.Error(request.Id, refusal) : ServerFrames.Ok(request.Id, payload));
                break;
            default:
                _connection.Send(ServerFrames.Error(request.Id, GatewayErrors.UnknownMethod(request.Method)));
                break;
        }
        return false;
    }

    /// <summary>The reply never waits for the presence fan-out; a later read still sees the beacon, since the manager gets both from this actor, in order.</summary>
    private void AcceptBeacon(RequestFrame request)
    {
        if (!SystemEventValidator.TryValidate(request.Params, out var beacon, out var invalid))
        {
            _connection.Send(ServerFrames.Error(request.Id, GatewayErrors.InvalidSystemEventParams(invalid!)));
            return;
        }
        // A beacon that names this connection's own client updates the connection's row: one client, one row.
        var client = _client!;
        var (key, update) = beacon!.Resolve(client.IsTracked(_options.UntrackedModes) ? client : null);
        _manager.Tell(new PresenceCommands.Upsert(key, update));
        GatewayMetrics.BeaconAccepted();
        _connection.Send(ServerFrames.Ok(request.Id, BeaconAccepted));
    }

    /// <summary>
    /// Asks the manager a read's <paramref name="query"/>; true when the actor now waits for the answer, which
    /// <paramref name="payloadOf"/> turns into the response's payload (off the actor's thread: it only reads the immutable reply).
    /// Past the gateway-wide bound on reads in flight the client is told to retry.
    /// </summary>
    private bool AskManager<TResponse>(string requestId, object query, Func<TResponse, ReadOnlyMemory<byte>> payloadOf)
    {
        if (!_options.Admission.TryStartRequest())
        {
            _connection.Send(ServerFrames.Error(requestId, GatewayErrors.Unavailable("too many requests in flight; retry shortly", RetryAfterBusyMs)));
            return false;
        }
        _manager.Ask<TResponse>(query, _options.AskTimeout)
            .PipeTo(Self, success: response => new ManagerAnswer(requestId, payloadOf(response)), failure: _ => new ManagerAnswer(requestId, null));
        Become(AwaitingManager);
        return true;
    }

    /// <summary>Operators with the scope may call; anyone else gets an error (and a node that keeps trying is closed).</summary>
    private bool Authorized(RequestFrame request, string scope)
    {
        var client = _client!;
        if (client.IsNode)
        {
            _connection.Send(ServerFrames.Error(request.Id, GatewayErrors.UnauthorizedRole(client.Role)));
            if (++_unauthorizedRoleCalls > MaxUnauthorizedRoleCalls)
                Close(WebSocketCloseStatus.PolicyViolation, "repeated unauthorized calls");
            return false;
        }
        _unauthorizedRoleCalls = 0;
        if (Scopes.Satisfies(client.Scopes, scope))
            return true;
        _connection.Send(ServerFrames.Error(request.Id, GatewayErrors.MissingScope(scope)));
        return false;
    }

    private void Reject(string requestId, ConnectDecision.Reject reject)
    {
        if (reject.MetricReason is { } reason)
            GatewayMetrics.HandshakeFailed(reason);
        else
            GatewayMetrics.HandshakeFailed(reject.Error);
        _connection.Send(ServerFrames.Error(requestId, reject.Error));
        Close(reject.Close, reject.CloseReason);
    }

    private void Close(WebSocketCloseStatus status, string reason)
    {
        Context.GetLogger().Debug("Closing connection {0}: {1} {2}", Info.Id, (int)status, reason);
        _connection.Close(status, reason);
        // Frames that waited are dropped unanswered: after a close the client gets nothing more.
        for (; _waiting is { Count: > 0 } waiting; waiting.Dequeue())
            _connection.FrameHandled();
        Become(Closing);
    }

    /// <summary>The socket is gone: the actor stops, and its parent reports the disconnect.</summary>
    internal sealed class SocketClosed : IDeadLetterSuppression
    {
        public static readonly SocketClosed Instance = new();

        private SocketClosed()
        {
        }
    }

    /// <summary>Sent by the supervisor's handshake sweep when the connection has not finished its connect in time.</summary>
    internal sealed class HandshakeTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly HandshakeTimedOut Instance = new();

        private HandshakeTimedOut()
        {
        }
    }

    /// <summary>
    /// Sent by the supervisor on a graceful stop. The actor, not the supervisor, decides whether its client hears
    /// <c>shutdown</c>: only it knows whether its hello-ok has gone out, even when the supervisor has not heard yet.
    /// </summary>
    internal sealed class GatewayStopping : IDeadLetterSuppression
    {
        public static readonly GatewayStopping Instance = new();

        private GatewayStopping()
        {
        }
    }

    private sealed record HelloReady(string RequestId, bool Tracked, PresenceSnapshot? Snapshot);

    /// <summary>A read's payload, or null when the manager did not answer in time.</summary>
    private sealed record ManagerAnswer(string RequestId, ReadOnlyMemory<byte>? Payload);
}

/// <summary>What every connection of this gateway shares.</summary>
internal sealed record ConnectionOptions(
    GatewaySettings Gateway,
    Admission Admission,
    IReadOnlySet<string> UntrackedModes,
    TimeSpan AskTimeout,
    string ServerVersion,
    long StartedAt);
