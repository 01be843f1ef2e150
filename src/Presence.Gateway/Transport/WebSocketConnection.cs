using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Akka.Actor;
using Presence.Gateway.Connections;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Transport;

/// <summary>
/// One WebSocket over a connection's input pipe and an <see cref="OutboxWire"/>, outside the actor system: its read loop decodes the
/// client's frames (RFC 6455), answers the control frames the protocol answers itself (ping, close),
/// and tells every message, parsed, to the connection's <see cref="ConnectionActor"/>, in order; its
/// <see cref="Outbox"/> writes what the actor and the fan-out send. An idle socket holds no buffer:
/// the read loop waits on the transport with nothing rented, and a message is assembled in a rented
/// array only when it does not arrive whole.
/// </summary>
internal sealed class WebSocketConnection : IClientConnection
{
    /// <summary>How long a close handshake (or a stuck send before it) may take before the socket is dropped.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>Stands in for the deadline once the run has ended, so that a close queued later starts none.</summary>
    private static readonly ITimer RunEnded = new NoTimer();

    private readonly PipeReader _input;
    private readonly Action _abort;
    private readonly TimeProvider _time;
    private readonly Admission.Ticket _admission;
    private readonly int _maxInboundQueue;
    private readonly Outbox _outbox;
    private IActorRef _actor = ActorRefs.Nobody;
    private int _unhandledFrames;
    private int _resumeBelow;
    private TaskCompletionSource? _actorCaughtUp;
    private int _heardSincePing = 1;
    private volatile bool _aborted;
    private ITimer? _closeDeadline;

    // Touched by the read loop only, but for its message bound, which the handshake raises.
    private readonly FrameDecoder _decoder;

    public WebSocketConnection(PeerInfo info, PipeReader input, OutboxWire wire, Action abort, GatewaySettings settings, Admission.Ticket admission, TimeProvider time)
    {
        Info = info;
        _input = input;
        _abort = abort;
        _time = time;
        _admission = admission;
        _maxInboundQueue = settings.Limits.MaxInboundQueue;
        _decoder = new FrameDecoder(settings.PreauthMaxPayload);
        _outbox = new Outbox(wire, settings.MaxBufferedBytes);
    }

    private enum Step
    {
        Continue,
        Throttled,
        ClientClosed,
        Stop,
    }

    public PeerInfo Info { get; }

    public void Send(OutboundFrame frame)
    {
        if (!_outbox.TrySend(frame) && !_outbox.IsClosed)
            CloseQueued(WebSocketCloseStatus.PolicyViolation, "slow consumer", discardQueued: true);
    }

    public void OfferPresence(OutboundFrame frame) => _outbox.OfferPresence(frame);

    public void Close(WebSocketCloseStatus status, string reason) => CloseQueued(status, reason, discardQueued: false);

    public void HandshakeCompleted(int maxPayload)
    {
        _decoder.MaxMessageBytes = maxPayload;
        _admission.HandshakeEnded();
    }

    public void FrameHandled()
    {
        if (Interlocked.Decrement(ref _unhandledFrames) < Volatile.Read(ref _resumeBelow))
            Interlocked.Exchange(ref _actorCaughtUp, null)?.TrySetResult();
    }

    public bool Ping()
    {
        if (Interlocked.Exchange(ref _heardSincePing, 0) == 0)
        {
            Abort();
            return false;
        }
        _outbox.SendControl(Opcode.Ping, ReadOnlyMemory<byte>.Empty);
        return true;
    }

    /// <summary>Runs the read loop until the connection ends, sends the closing frame if one is due, then tells the actor and gives back the admission ticket.</summary>
    public async Task RunAsync(IActorRef actor)
    {
        _actor = actor;
        // The read loop is inline, not a method of its own: one async state machine less per socket for its whole life.
        var input = _input;
        try
        {
            while (!_aborted)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var step = Step.Stop;
                WebSocketCloseStatus clientClose = default;
                try
                {
                    step = Process(ref buffer, out clientClose);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, step == Step.Throttled ? buffer.Start : buffer.End);
                }
                if (step == Step.ClientClosed)
                {
                    // The client's close comes after the frames it sent before it: once the actor has handled those, a
                    // close it queued meanwhile (1008 after a wrong token) is the one the client gets, not an echo.
                    await WaitForActorAsync(below: 1).ConfigureAwait(false);
                    _outbox.Close(clientClose, "");
                    break;
                }
                if (step == Step.Stop || result.IsCompleted || result.IsCanceled)
                    break;
                if (step == Step.Throttled)
                    await WaitForActorAsync(below: _maxInboundQueue).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The peer vanished, or the socket was dropped: either way the connection is over.
        }
        finally
        {
            _decoder.ReleaseAll();
            if (_outbox.IsClosed && !_aborted)
            {
                // The client's close may have come first: the echo, too, goes out within the deadline or the socket is dropped.
                StartCloseDeadline();
                await _outbox.Finished.ConfigureAwait(false);
            }
            // The deadline ends with the run: a connection that closed cleanly is neither kept alive nor aborted later.
            Interlocked.Exchange(ref _closeDeadline, RunEnded)?.Dispose();
            _outbox.Abandon();
            actor.Tell(ConnectionActor.SocketClosed.Instance);
            _admission.Dispose();
        }
    }

    private void CloseQueued(WebSocketCloseStatus status, string reason, bool discardQueued)
    {
        if (!_outbox.Close(status, CloseReasons.Truncate(reason), discardQueued))
            return;
        // The read loop may be waiting for an actor that is stopping: let it go on reading until the client's close.
        Interlocked.Exchange(ref _actorCaughtUp, null)?.TrySetResult();
        StartCloseDeadline();
    }

    /// <summary>
    /// A close handshake (or a stuck send before it) gets <see cref="CloseGrace"/>; past it the socket is
    /// dropped without one. One deadline per connection, started by whichever close comes first.
    /// </summary>
    private void StartCloseDeadline()
    {
        if (Volatile.Read(ref _closeDeadline) is not null)
            return;
        var deadline = _time.CreateTimer(static state => ((WebSocketConnection)state!).Drop(), this, CloseGrace, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref _closeDeadline, deadline, null) is not null)
            deadline.Dispose();
    }

    /// <summary>The client stopped reading or never answered the close: the socket goes, and so does the wait for the close to go out.</summary>
    private void Drop()
    {
        Abort();
        _outbox.Abandon();
    }

    private void Abort()
    {
        if (_aborted)
            return;
        _aborted = true;
        _abort();
        Interlocked.Exchange(ref _actorCaughtUp, null)?.TrySetResult();
    }

    /// <summary>
    /// A client that sends faster than its actor handles waits here with its bytes unread, and TCP
    /// pushes back on it, until fewer than <paramref name="below"/> frames are unhandled (or a close is
    /// queued). The waiter exists only while waiting.
    /// </summary>
    private Task WaitForActorAsync(int below)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _resumeBelow, below);
        Volatile.Write(ref _actorCaughtUp, waiter);
        if (Volatile.Read(ref _unhandledFrames) < below || _outbox.IsClosed || _aborted)
            Interlocked.Exchange(ref _actorCaughtUp, null)?.TrySetResult();
        return waiter.Task;
    }

    /// <summary>Decodes what arrived; <paramref name="buffer"/> is left at the first byte not yet consumed.</summary>
    private Step Process(ref ReadOnlySequence<byte> buffer, out WebSocketCloseStatus clientClose)
    {
        clientClose = default;
        while (true)
        {
            if (!_decoder.Failed && _decoder.BetweenFrames && Volatile.Read(ref _unhandledFrames) >= _maxInboundQueue && !_outbox.IsClosed)
                return Step.Throttled;
            var decoded = _decoder.Next(ref buffer);
            switch (decoded.Kind)
            {
                case DecodedKind.NeedMoreData:
                    return Step.Continue;
                case DecodedKind.Message:
                    Deliver(decoded.Payload.Span);
                    _decoder.Release();
                    break;
                case DecodedKind.Ping:
                    Volatile.Write(ref _heardSincePing, 1);
                    _outbox.SendControl(Opcode.Pong, decoded.Payload);
                    break;
                case DecodedKind.Pong:
                    Volatile.Write(ref _heardSincePing, 1);
                    break;
                case DecodedKind.Close:
                    Volatile.Write(ref _heardSincePing, 1);
                    // A close the gateway queues before the echo is the one the client gets; otherwise its own code is echoed.
                    clientClose = decoded.CloseStatus ?? WebSocketCloseStatus.NormalClosure;
                    return Step.ClientClosed;
                case DecodedKind.Failure:
                    Fail(decoded.Failure);
                    break;
            }
        }
    }

    private void Deliver(ReadOnlySpan<byte> payload)
    {
        Volatile.Write(ref _heardSincePing, 1);
        // Once a close is queued the actor answers nothing more; the frame is read only to reach the client's close.
        if (_outbox.IsClosed)
            return;
        var frame = FrameParser.Parse(payload);
        Interlocked.Increment(ref _unhandledFrames);
        _actor.Tell(frame);
    }

    private void Fail(Failure failure)
    {
        CloseQueued(failure.Status, failure.Reason, discardQueued: false);
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
