using System.Net.WebSockets;
using Akka.Actor;
using Akka.Event;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Auth;
using Presence.Gateway.Operators;
using Presence.Gateway.Protocol;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Gateway.Connections;

/// <summary>
/// One WebSocket connection: runs its handshake, holds its identity and scopes,
/// answers its requests, and reports its presence to the PresenceManager.
/// Its socket loops live in <see cref="GatewaySocket"/>; this actor never blocks on them.
/// </summary>
internal sealed class ConnectionActor : UntypedActor, IWithTimers
{
    private const string HandshakeTimer = "handshake";
    private const int MaxUnauthorizedRoleCalls = 10;
    private const int RetryAfterBusyMs = 100;

    /// <summary>Browser clients, which must connect from an allowed origin.</summary>
    private static readonly HashSet<string> BrowserClientIds = ["openclaw-control-ui", "openclaw-browser-copilot", "webchat-ui", "webchat"];

    private readonly GatewaySocket _socket;
    private readonly IActorRef _manager;
    private readonly ConnectionOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<InboundFrame> _pendingHandshakeFrames = [];
    private Phase _phase = Phase.AwaitingConnect;
    private ConnectedClient? _client;
    private PresenceRequests? _requests;
    private bool _readsPresence;
    private int _unauthorizedRoleCalls;

    public ConnectionActor(GatewaySocket socket, IActorRef manager, ConnectionOptions options)
    {
        _socket = socket;
        _manager = manager;
        _options = options;
    }

    private enum Phase
    {
        AwaitingConnect,
        Connecting,
        Connected,
        Closing,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // Not the expression-tree overload: Akka would compile or interpret that expression for every connection.
    public static Props Props(GatewaySocket socket, IActorRef manager, ConnectionOptions options) =>
        Akka.Actor.Props.Create<ConnectionActor>(socket, manager, options);

    private static long Now => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    private GatewaySettings Settings => _options.Gateway;

    protected override void PreStart()
    {
        GatewayMetrics.ConnectionActorStarted();
        _socket.Send(ServerFrames.Challenge(Guid.NewGuid().ToString(), Now));
        Timers.StartSingleTimer(HandshakeTimer, HandshakeTimedOut.Instance, Settings.HandshakeTimeout);
    }

    /// <summary>Leaves the live count; reads still awaiting the manager when the connection ends give their gateway-wide slots back.</summary>
    protected override void PostStop()
    {
        GatewayMetrics.ConnectionActorStopped();
        for (; _socket.ReadsAwaitingManager > 0; _socket.ReadEnded())
            _options.Admission.RequestEnded();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case InboundFrame frame:
                OnFrame(frame);
                _socket.FrameHandled();
                break;
            case HelloReady ready:
                OnHelloReady(ready);
                break;
            case PresenceAnswer answer:
                EndRequest();
                Send(answer.Snapshot is null
                    ? ServerFrames.Error(answer.RequestId, GatewayErrors.Unavailable("presence is unavailable; retry shortly", 1000))
                    : ServerFrames.Ok(answer.RequestId, answer.Snapshot.Json));
                break;
            case HandshakeTimedOut when _phase is Phase.AwaitingConnect or Phase.Connecting:
                GatewayMetrics.HandshakeFailed("timeout");
                Close(WebSocketCloseStatus.NormalClosure, "");
                break;
            case HandshakeTimedOut:
                break;
            case SocketClosed:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnFrame(InboundFrame frame)
    {
        switch (_phase)
        {
            case Phase.AwaitingConnect:
                OnFirstFrame(frame);
                break;
            case Phase.Connecting when _pendingHandshakeFrames.Count >= Settings.MaxPendingHandshakeFrames:
                GatewayMetrics.HandshakeFailed("too_many_pending_frames");
                Close(WebSocketCloseStatus.PolicyViolation, "too many pending handshake frames");
                break;
            case Phase.Connecting:
                _pendingHandshakeFrames.Add(frame);
                break;
            case Phase.Connected:
                OnRequest(frame);
                break;
            case Phase.Closing:
                break;
        }
    }

    private void OnFirstFrame(InboundFrame frame)
    {
        switch (frame)
        {
            case MalformedJsonFrame:
                GatewayMetrics.HandshakeFailed("malformed_json");
                Close(WebSocketCloseStatus.NormalClosure, "");
                break;
            case InvalidFrame:
                GatewayMetrics.HandshakeFailed("invalid_frame");
                Close(WebSocketCloseStatus.PolicyViolation, "invalid request frame");
                break;
            case RequestFrame { Method: not "connect" } request:
                Reject(request.Id, GatewayErrors.InvalidHandshake());
                break;
            case RequestFrame request:
                Connect(request);
                break;
        }
    }

    /// <summary>Checks a connect in the order the OpenClaw gateway does; the first failure answers and closes.</summary>
    private void Connect(RequestFrame request)
    {
        if (!ConnectParamsValidator.TryValidate(request.Params, out var parameters, out var invalid))
        {
            Reject(request.Id, GatewayErrors.InvalidConnectParams(invalid!));
            return;
        }
        if (!ProtocolAccepted(parameters!))
        {
            Send(ServerFrames.Error(request.Id, GatewayErrors.ProtocolMismatch(parameters!.MinProtocol, parameters.MaxProtocol)));
            GatewayMetrics.HandshakeFailed("protocol_mismatch");
            Close(WebSocketCloseStatus.ProtocolError, "protocol mismatch");
            return;
        }
        if (parameters!.Role is not ("operator" or ConnectedClient.NodeRole))
        {
            Reject(request.Id, GatewayErrors.InvalidRole());
            return;
        }
        if (!OriginAllowed(parameters.Client.Id))
        {
            Reject(request.Id, GatewayErrors.OriginNotAllowed());
            return;
        }
        if (Settings.Auth != AuthMode.None && _options.Admission.IsAuthRateLimited(_socket.RemoteAddress, out var retryAfterMs))
        {
            Reject(request.Id, GatewayErrors.AuthRateLimited(retryAfterMs));
            return;
        }
        if (AuthFailure(parameters) is { } authFailure)
        {
            _options.Admission.AuthFailed(_socket.RemoteAddress);
            Reject(request.Id, authFailure);
            return;
        }
        Admit(request.Id, parameters);
    }

    private void Admit(string requestId, ConnectParams parameters)
    {
        _client = new ConnectedClient
        {
            Connection = _socket.Id,
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
            RemoteAddress = _socket.RemoteAddress,
        };
        _readsPresence = !_client.IsNode && Scopes.Satisfies(parameters.Scopes, Scopes.Read);
        var tracked = _client.IsTracked(_options.UntrackedModes);
        if (tracked)
        {
            // The row is written before hello-ok, so the client's own snapshot already shows it.
            _options.Board.Tell(_manager, new PresenceCommands.Upsert(_client.Key, _client.ToUpdate(), _socket.Id));
            Context.Parent.Tell(new ConnectionsSupervisorActor.ConnectionTracked(_socket.Id, _client.Key, _client.DisconnectReason));
        }
        _phase = Phase.Connecting;
        if (_options.Board.TryRead(Now, out var snapshot))
        {
            OnHelloReady(new HelloReady(requestId, tracked, snapshot));
            return;
        }
        _manager.Ask<GetPresenceResponse>(GetPresence.Instance, _options.AskTimeout)
            .PipeTo(Self, success: response => new HelloReady(requestId, tracked, response.Snapshot), failure: _ => new HelloReady(requestId, tracked, null));
    }

    private void OnHelloReady(HelloReady ready)
    {
        if (_phase != Phase.Connecting)
            return;
        if (ready.Snapshot is null)
        {
            Send(ServerFrames.Error(ready.RequestId, GatewayErrors.Unavailable("gateway busy; retry shortly", 1000)));
            GatewayMetrics.HandshakeFailed("unavailable");
            Close(CloseCodes.TryAgainLater, "gateway busy");
            return;
        }
        var hello = new HelloOk(
            _options.ServerVersion,
            _socket.Id.Value,
            _client!.Role,
            _client.Scopes,
            ready.Snapshot.StateVersion,
            Now,
            Now - _options.StartedAt,
            Settings.MaxPayload,
            Settings.MaxBufferedBytes,
            (long)Settings.TickInterval.TotalMilliseconds);
        Send(ServerFrames.HelloOk(ready.RequestId, hello, _readsPresence ? ready.Snapshot.Json : ServerFrames.EmptyPresence));
        _socket.HandshakeCompleted(Settings.MaxPayload);
        _phase = Phase.Connected;
        GatewayMetrics.HandshakeSucceeded();
        Timers.Cancel(HandshakeTimer);
        Context.Parent.Tell(new ConnectionsSupervisorActor.ConnectionAuthenticated(_socket.Id, _readsPresence, ready.Tracked, ready.Snapshot.StateVersion));
        _requests = new PresenceRequests(_manager, _options, MayWrite: !_client.IsNode && Scopes.Satisfies(_client.Scopes, Scopes.Admin), MayRead: _readsPresence, Sender: ready.Tracked ? _client : null);
        foreach (var frame in _pendingHandshakeFrames)
            OnFrame(frame);
        _pendingHandshakeFrames.Clear();
        // Only now: a frame the read loop answered earlier could overtake the ones replayed above.
        _socket.AnswerOnReadLoop(_requests);
    }

    private void OnRequest(InboundFrame frame)
    {
        switch (frame)
        {
            case MalformedJsonFrame:
                // Ignored after hello, as the OpenClaw gateway does.
                break;
            case InvalidFrame invalid:
                Send(ServerFrames.Error(invalid));
                break;
            case RequestFrame request:
                OnMethod(request);
                break;
        }
    }

    private void OnMethod(RequestFrame request)
    {
        switch (request.Method)
        {
            case "connect":
                Send(ServerFrames.Error(request.Id, GatewayErrors.ConnectOnlyFirst()));
                break;
            case "health":
                Send(ServerFrames.Ok(request.Id, writer =>
                {
                    writer.WriteStartObject();
                    ServerFrames.WriteHealth(writer, Now, Now - _options.StartedAt);
                    writer.WriteEndObject();
                }));
                break;
            case "system-presence":
                if (!Authorized(request, Scopes.Read))
                    break;
                if (_requests!.TryAnswerPresence(request) is { } answer)
                    Send(answer);
                else if (TryStartRequest(request))
                {
                    _manager.Ask<GetPresenceResponse>(GetPresence.Instance, _options.AskTimeout)
                        .PipeTo(Self, success: response => new PresenceAnswer(request.Id, response.Snapshot), failure: _ => new PresenceAnswer(request.Id, null));
                }
                break;
            case "system-event":
                if (Authorized(request, Scopes.Admin))
                    Send(_requests!.AcceptBeacon(request));
                break;
            case "status" or "config.get":
                if (Authorized(request, Scopes.Read))
                    Send(ServerFrames.Ok(request.Id, EmptyObject));
                break;
            default:
                Send(ServerFrames.Error(request.Id, GatewayErrors.UnknownMethod(request.Method)));
                break;
        }
    }

    private static readonly ReadOnlyMemory<byte> EmptyObject = "{}"u8.ToArray();

    /// <summary>Bounds the reads awaiting the manager, per connection and overall; a request beyond them is told to retry.</summary>
    private bool TryStartRequest(RequestFrame request)
    {
        if (_socket.ReadsAwaitingManager < _options.Gateway.Limits.MaxRequestsInFlightPerConnection && _options.Admission.TryStartRequest())
        {
            _socket.ReadStarted();
            return true;
        }
        Send(ServerFrames.Error(request.Id, GatewayErrors.Unavailable("too many requests in flight; retry shortly", RetryAfterBusyMs)));
        return false;
    }

    private void EndRequest()
    {
        _options.Admission.RequestEnded();
        _socket.ReadEnded();
    }

    /// <summary>Operators with the scope may call; anyone else gets an error (and a node that keeps trying is closed).</summary>
    private bool Authorized(RequestFrame request, string scope)
    {
        if (_client!.IsNode)
        {
            Send(ServerFrames.Error(request.Id, GatewayErrors.UnauthorizedRole(_client.Role)));
            if (++_unauthorizedRoleCalls > MaxUnauthorizedRoleCalls)
                Close(WebSocketCloseStatus.PolicyViolation, "repeated unauthorized calls");
            return false;
        }
        _unauthorizedRoleCalls = 0;
        if (Scopes.Satisfies(_client.Scopes, scope))
            return true;
        Send(ServerFrames.Error(request.Id, GatewayErrors.MissingScope(scope)));
        return false;
    }

    /// <summary>Protocol 4, plus the probe window (3..4) and the node N-1 window (3).</summary>
    private static bool ProtocolAccepted(ConnectParams parameters)
    {
        var (min, max) = (parameters.MinProtocol, parameters.MaxProtocol);
        if (min <= ProtocolVersions.Current && ProtocolVersions.Current <= max)
            return true;
        if (parameters.Client.Mode == "probe" && max >= ProtocolVersions.MinimumProbe && min <= ProtocolVersions.Current)
            return true;
        return parameters.Role == ConnectedClient.NodeRole && parameters.Client.Mode == "node"
            && min <= ProtocolVersions.PreviousNode && ProtocolVersions.PreviousNode <= max;
    }

    /// <summary>A browser may connect only from the gateway's own origin or a configured one; browser clients must say where they come from.</summary>
    private bool OriginAllowed(string clientId)
    {
        if (_socket.Origin is null)
            return !BrowserClientIds.Contains(clientId);
        return string.Equals(_socket.Origin, _socket.OwnOrigin, StringComparison.OrdinalIgnoreCase)
            || Settings.AllowedOrigins.Contains(_socket.Origin, StringComparer.OrdinalIgnoreCase);
    }

    private GatewayError? AuthFailure(ConnectParams parameters)
    {
        if (Settings.Auth == AuthMode.None)
            return null;
        var (token, password) = (parameters.Auth?.Token, parameters.Auth?.Password);
        if (string.IsNullOrEmpty(token) && string.IsNullOrEmpty(password))
            return GatewayErrors.DeviceIdentityRequired();
        // Both fields are checked every time (no short circuit), so timing does not tell which one held the secret.
        var matched = Settings.Secret!.Matches(token) | Settings.Secret.Matches(password);
        if (matched)
            return null;
        return Settings.Auth == AuthMode.Token ? GatewayErrors.TokenMismatch() : GatewayErrors.PasswordMismatch();
    }

    private void Reject(string requestId, GatewayError error)
    {
        GatewayMetrics.HandshakeFailed(error);
        Send(ServerFrames.Error(requestId, error));
        Close(WebSocketCloseStatus.PolicyViolation, error.Message);
    }

    private void Send(OutboundFrame frame)
    {
        if (_phase != Phase.Closing)
            _socket.Send(frame);
    }

    private void Close(WebSocketCloseStatus status, string reason)
    {
        if (_phase == Phase.Closing)
            return;
        _phase = Phase.Closing;
        _log.Debug("Closing connection {0}: {1} {2}", _socket.Id, (int)status, reason);
        _socket.Close(status, reason);
    }

    /// <summary>The socket is gone: the actor stops, and its parent reports the disconnect.</summary>
    internal sealed class SocketClosed : IDeadLetterSuppression
    {
        public static readonly SocketClosed Instance = new();

        private SocketClosed()
        {
        }
    }

    private sealed class HandshakeTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly HandshakeTimedOut Instance = new();

        private HandshakeTimedOut()
        {
        }
    }

    private sealed record HelloReady(string RequestId, bool Tracked, PresenceSnapshot? Snapshot);

    private sealed record PresenceAnswer(string RequestId, PresenceSnapshot? Snapshot);
}

/// <summary>
/// What every connection of this gateway shares; among it the presence manager's published list
/// (read instead of asking while it is current) and the actor system's clock for the read loop, which is outside the actors.
/// </summary>
internal sealed record ConnectionOptions(
    GatewaySettings Gateway,
    Admission Admission,
    PresenceBoard Board,
    ITimeProvider Clock,
    IReadOnlySet<string> UntrackedModes,
    TimeSpan AskTimeout,
    string ServerVersion,
    long StartedAt);
