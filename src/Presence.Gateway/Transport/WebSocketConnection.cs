using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Akka.Actor;
using Presence.Gateway.Connections;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Transport;

/// <summary>
/// One WebSocket over a connection's pipes, outside the actor system: its read loop decodes the
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

    private readonly IDuplexPipe _transport;
    private readonly Action _abort;
    private readonly Admission.Ticket _admission;
    private readonly int _maxInboundQueue;
    private readonly Outbox _outbox;
    private IActorRef _actor = ActorRefs.Nobody;
    private volatile int _maxMessageBytes;
    private int _unhandledFrames;
    private TaskCompletionSource? _actorCaughtUp;
    private int _heardSincePing = 1;
    private volatile bool _aborted;

    // The decoder's state, touched by the read loop only.
    private FrameHeader _frame;
    private bool _inFrame;
    private long _frameBytesRead;
    private Opcode? _messageOpcode;
    private byte[]? _message;
    private int _messageLength;
    private bool _failed;

    public WebSocketConnection(PeerInfo info, IDuplexPipe transport, Action abort, GatewaySettings settings, Admission.Ticket admission)
    {
        Info = info;
        _transport = transport;
        _abort = abort;
        _admission = admission;
        _maxInboundQueue = settings.Limits.MaxInboundQueue;
        _maxMessageBytes = settings.PreauthMaxPayload;
        _outbox = new Outbox(transport.Output, settings.MaxBufferedBytes);
    }

    private enum Step
    {
        Continue,
        Throttled,
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
        _maxMessageBytes = maxPayload;
        _admission.HandshakeEnded();
    }

    public void FrameHandled()
    {
        if (Interlocked.Decrement(ref _unhandledFrames) < _maxInboundQueue)
            Interlocked.Exchange(ref _actorCaughtUp, null)?.TrySetResult();
    }

    public bool Ping()
    {
        if (Interlocked.Exchange(ref _heardSincePing, 0) == 0)
        {
            Abort();
            return false;
        }
        _outbox.SendControl(Opcode.Ping, []);
        return true;
    }

    /// <summary>Runs the read loop until the connection ends, sends the closing frame if one is due, then tells the actor and gives back the admission ticket.</summary>
    public async Task RunAsync(IActorRef actor)
    {
        _actor = actor;
        // The read loop is inline, not a method of its own: one async state machine less per socket for its whole life.
        var input = _transport.Input;
        try
        {
            while (!_aborted)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var step = Step.Stop;
                try
                {
                    step = Process(ref buffer);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, step == Step.Throttled ? buffer.Start : buffer.End);
                }
                if (step == Step.Stop || result.IsCompleted || result.IsCanceled)
                    break;
                if (step == Step.Throttled)
                    await WaitForActorAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The peer vanished, or the socket was dropped: either way the connection is over.
        }
        finally
        {
            ReturnMessageBuffer();
            if (_outbox.IsClosed && !_aborted)
            {
                try
                {
                    await _outbox.Finished.WaitAsync(CloseGrace).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The client stopped reading: the close could not go out, and the socket is dropped without it.
                }
            }
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
        _ = DropIfCloseStallsAsync();
    }

    private async Task DropIfCloseStallsAsync()
    {
        await Task.Delay(CloseGrace).ConfigureAwait(false);
        Abort();
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
    /// pushes back on it. The waiter exists only while waiting.
    /// </summary>
    private Task WaitForActorAsync()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _actorCaughtUp, waiter);
        if (Volatile.Read(ref _unhandledFrames) < _maxInboundQueue || _outbox.IsClosed)
            Interlocked.Exchange(ref _actorCaughtUp, null)?.TrySetResult();
        return waiter.Task;
    }

    /// <summary>Decodes what arrived; <paramref name="buffer"/> is left at the first byte not yet consumed.</summary>
    private Step Process(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            if (_failed)
            {
                // After a protocol failure the byte stream cannot be trusted: discard it until the peer closes.
                buffer = buffer.Slice(buffer.End);
                return Step.Continue;
            }
            if (!_inFrame)
            {
                if (Volatile.Read(ref _unhandledFrames) >= _maxInboundQueue && !_outbox.IsClosed)
                    return Step.Throttled;
                switch (WebSocketFrames.TryReadHeader(buffer, out var header, out var headerLength, out var failure))
                {
                    case WebSocketFrames.HeaderStatus.NeedMoreData:
                        return Step.Continue;
                    case WebSocketFrames.HeaderStatus.Invalid:
                        Fail(failure);
                        continue;
                }
                if (Sequencing(header) is { } outOfOrder)
                {
                    Fail(outOfOrder);
                    continue;
                }
                if (header.IsControl)
                {
                    if (buffer.Length < headerLength + header.PayloadLength)
                        return Step.Continue;
                    var control = OnControl(header, buffer.Slice(headerLength, header.PayloadLength));
                    buffer = buffer.Slice(headerLength + header.PayloadLength);
                    if (control == Step.Stop)
                        return Step.Stop;
                    continue;
                }
                if (_messageOpcode is null && header.Fin && buffer.Length >= headerLength + header.PayloadLength
                    && buffer.Slice(headerLength, header.PayloadLength) is { IsSingleSegment: true } whole)
                {
                    // The common case, a whole message in one piece: unmasked where it lies, no copy.
                    var payload = MemoryMarshal.AsMemory(whole.First).Span;
                    WebSocketFrames.Unmask(payload, header.Mask, 0);
                    Deliver(header.Opcode, payload);
                    buffer = buffer.Slice(headerLength + header.PayloadLength);
                    continue;
                }
                _frame = header;
                _inFrame = true;
                _frameBytesRead = 0;
                _messageOpcode ??= header.Opcode;
                buffer = buffer.Slice(headerLength);
            }
            if (!ReadPayload(ref buffer))
                return Step.Continue;
        }
    }

    /// <summary>Data frames must form messages: a first frame, then continuations up to one with FIN; and a message is bounded.</summary>
    private Failure? Sequencing(FrameHeader header)
    {
        if (header.IsControl)
            return null;
        if (header.Opcode == Opcode.Continuation && _messageOpcode is null)
            return Failure.Protocol("continuation frame without a message");
        if (header.Opcode != Opcode.Continuation && _messageOpcode is not null)
            return Failure.Protocol("new message before the previous one ended");
        if (_messageLength + header.PayloadLength > _maxMessageBytes)
            return new Failure(WebSocketCloseStatus.MessageTooBig, "");
        return null;
    }

    /// <summary>Copies (unmasking) what has arrived of the current frame's payload; true once the frame is complete.</summary>
    private bool ReadPayload(ref ReadOnlySequence<byte> buffer)
    {
        var remaining = _frame.PayloadLength - _frameBytesRead;
        var take = (int)Math.Min(remaining, buffer.Length);
        EnsureMessageCapacity(_messageLength + take);
        var destination = _message.AsSpan(_messageLength, take);
        buffer.Slice(0, take).CopyTo(destination);
        WebSocketFrames.Unmask(destination, _frame.Mask, _frameBytesRead);
        _messageLength += take;
        _frameBytesRead += take;
        buffer = buffer.Slice(take);
        if (_frameBytesRead < _frame.PayloadLength)
            return false;
        _inFrame = false;
        if (_frame.Fin)
        {
            var opcode = _messageOpcode!.Value;
            _messageOpcode = null;
            Deliver(opcode, _message.AsSpan(0, _messageLength));
            ReturnMessageBuffer();
        }
        return true;
    }

    private void EnsureMessageCapacity(int length)
    {
        if (_message is not null && _message.Length >= length)
            return;
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(length, Math.Min(_maxMessageBytes, (_message?.Length ?? 2048) * 2)));
        if (_message is not null)
        {
            _message.AsSpan(0, _messageLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_message);
        }
        _message = larger;
    }

    private void ReturnMessageBuffer()
    {
        if (_message is not null)
            ArrayPool<byte>.Shared.Return(_message);
        _message = null;
        _messageLength = 0;
    }

    private void Deliver(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        Volatile.Write(ref _heardSincePing, 1);
        if (opcode == Opcode.Text && !Utf8.IsValid(payload))
        {
            Fail(new Failure(WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8"));
            return;
        }
        // Once a close is queued the actor answers nothing more; the frame is read only to reach the client's close.
        if (_outbox.IsClosed)
            return;
        var frame = FrameParser.Parse(payload);
        Interlocked.Increment(ref _unhandledFrames);
        _actor.Tell(frame);
    }

    private Step OnControl(FrameHeader header, ReadOnlySequence<byte> masked)
    {
        Volatile.Write(ref _heardSincePing, 1);
        var payload = masked.ToArray();
        WebSocketFrames.Unmask(payload, header.Mask, 0);
        switch (header.Opcode)
        {
            case Opcode.Ping:
                _outbox.SendControl(Opcode.Pong, payload);
                return Step.Continue;
            case Opcode.Pong:
                return Step.Continue;
        }
        if (!WebSocketFrames.TryReadClose(payload, out var status, out var failure))
        {
            Fail(failure);
            return Step.Continue;
        }
        // A close the gateway already queued is the one the client gets; otherwise its own code is echoed.
        _outbox.Close(status ?? WebSocketCloseStatus.NormalClosure, "");
        return Step.Stop;
    }

    private void Fail(Failure failure)
    {
        _failed = true;
        CloseQueued(failure.Status, failure.Reason, discardQueued: false);
    }
}
