using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Net.WebSockets;
using Presence.Gateway.Connections;
using Presence.Gateway.Operators;

namespace Presence.Gateway.Transport;

/// <summary>
/// The send side of one socket: a queue that many threads may write to, drained by at most one of
/// them at a time straight onto its <see cref="OutboxWire"/>: a frame is its header and its parts,
/// and a drain ends with one flush, however many frames it wrote. Whoever queues onto an idle outbox drains it on its own thread, so a reply
/// usually reaches the kernel without waking another thread. Presence lists are latest-wins: a newer
/// list replaces an unsent older one, and the newest is always kept, so a slow reader only ever
/// misses intermediate lists. Any other frame that would take the unsent bytes past the bound is
/// refused, and the caller closes the socket as a slow consumer.
/// </summary>
internal sealed class Outbox(OutboxWire wire, long maxBufferedBytes)
{
    private static readonly object PresenceSlot = new();

    // Not a ConcurrentQueue: that allocates a 32-slot segment up front, about 0.8 KB on every idle socket.
    private readonly Queue<object> _queue = new(0);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private OutboundFrame? _pendingPresence;
    private volatile bool _discardQueued;
    private volatile bool _abandoned;
    private int _closed;
    private int _draining;
    private long _bufferedBytes;
    private long _seq;

    /// <summary>Completes once the close frame is on its way to the kernel, or the outbox was abandoned.</summary>
    public Task Finished => _finished.Task;

    /// <summary>True once a close is queued: nothing queued after it is sent.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Queues a frame; false when the reader is too far behind to take it (or the outbox is closed).</summary>
    public bool TrySend(OutboundFrame frame)
    {
        if (IsClosed)
            return false;
        if (Interlocked.Add(ref _bufferedBytes, frame.Length) > maxBufferedBytes)
        {
            Interlocked.Add(ref _bufferedBytes, -frame.Length);
            GatewayMetrics.EventDropped("slow_consumer");
            return false;
        }
        Enqueue(frame);
        return true;
    }

    /// <summary>
    /// Queues a presence list in the one presence slot, replacing an unsent older list. The slot holds
    /// at most one list whatever the reader does, so the newest is never the one dropped.
    /// </summary>
    public void OfferPresence(OutboundFrame frame)
    {
        if (IsClosed)
            return;
        var replaced = Interlocked.Exchange(ref _pendingPresence, frame);
        if (replaced is not null)
        {
            GatewayMetrics.EventDropped("superseded");
            return;
        }
        Enqueue(PresenceSlot);
    }

    /// <summary>A ping or a pong: sent in order with everything else, small enough never to count against the bound.</summary>
    public void SendControl(Opcode opcode, ReadOnlyMemory<byte> payload)
    {
        if (!IsClosed)
            Enqueue(new ControlFrame(opcode, payload));
    }

    /// <summary>
    /// Queues a close; nothing queued later is sent. With <paramref name="discardQueued"/> the frames
    /// still waiting are dropped too, so that a reader that fell behind is closed without first being
    /// fed. Only the first close counts: false when one was already queued.
    /// </summary>
    public bool Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        _discardQueued |= discardQueued;
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return false;
        Enqueue(new ControlFrame(Opcode.Close, WebSocketFrames.ClosePayload(status, reason)));
        return true;
    }

    /// <summary>Stops sending without a close handshake (the socket is gone).</summary>
    public void Abandon()
    {
        Interlocked.Exchange(ref _closed, 1);
        _abandoned = true;
        Drain();
        _finished.TrySetResult();
    }

    private void Enqueue(object item)
    {
        lock (_queue)
            _queue.Enqueue(item);
        Drain();
    }

    private bool TryDequeue([NotNullWhen(true)] out object? item)
    {
        lock (_queue)
            return _queue.TryDequeue(out item);
    }

    private bool IsEmpty()
    {
        lock (_queue)
            return _queue.Count == 0;
    }

    /// <summary>Takes the drain if nobody holds it; the flag is released only with the queue seen empty, so no frame is stranded.</summary>
    private void Drain()
    {
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
            DrainHeld();
    }

    /// <summary>
    /// Writes until the queue is empty, then flushes once. A flush that completes at once (the
    /// transport took the bytes) keeps the drain on this thread; one that must wait for the peer
    /// continues on the thread that completes it.
    /// </summary>
    private void DrainHeld()
    {
        try
        {
            while (true)
            {
                var wrote = false;
                while (!_abandoned && TryDequeue(out var item))
                {
                    if (Write(item))
                    {
                        wrote = true;
                        continue;
                    }
                    // The close is written: flush it, and nothing after it is ever sent.
                    var flushClose = wire.FlushAsync();
                    if (!flushClose.IsCompleted)
                    {
                        _ = CompleteAfterAsync(flushClose);
                        return;
                    }
                    flushClose.GetAwaiter().GetResult();
                    _finished.TrySetResult();
                    return;
                }
                if (wrote && !_abandoned)
                {
                    var flush = wire.FlushAsync();
                    if (!flush.IsCompleted)
                    {
                        _ = ContinueAfterFlushAsync(flush);
                        return;
                    }
                    // A send that failed at once throws here, and ends the outbox like any other.
                    flush.GetAwaiter().GetResult();
                }
                Volatile.Write(ref _draining, 0);
                // A frame queued (or an abandon) after the empty check but before the release found the flag still taken.
                if ((IsEmpty() && !_abandoned) || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                    return;
                if (_abandoned)
                {
                    lock (_queue)
                        _queue.Clear();
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or SocketException or OperationCanceledException)
        {
            // The transport is gone (completed or aborted) while we wrote: the read side ends the connection.
            _abandoned = true;
            _finished.TrySetResult();
        }
    }

    private async Task ContinueAfterFlushAsync(ValueTask flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or SocketException or OperationCanceledException)
        {
            _abandoned = true;
            _finished.TrySetResult();
        }
        DrainHeld();
    }

    private async Task CompleteAfterAsync(ValueTask flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or SocketException or OperationCanceledException)
        {
            // Gone before the close went out: nothing more to send either way.
        }
        _finished.TrySetResult();
    }

    /// <summary>Writes one queued item; false when it was the close, after which nothing is written.</summary>
    private bool Write(object item)
    {
        switch (item)
        {
            case ControlFrame { Opcode: Opcode.Close } close:
                WriteFrame(Opcode.Close, close.Payload.Span);
                return false;
            case ControlFrame control:
                WriteFrame(control.Opcode, control.Payload.Span);
                return true;
        }
        var frame = item as OutboundFrame ?? Interlocked.Exchange(ref _pendingPresence, null);
        if (frame is null)
            return true;
        if (item is OutboundFrame)
            Interlocked.Add(ref _bufferedBytes, -frame.Length);
        if (_discardQueued)
            return true;
        WriteText(frame);
        if (frame.CarriesSeq)
            GatewayMetrics.EventSent();
        return true;
    }

    private void WriteFrame(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[WebSocketFrames.MaxServerHeader];
        wire.Copy(header[..WebSocketFrames.WriteHeader(header, opcode, payload.Length)]);
        wire.Copy(payload);
    }

    /// <summary>One text message: the header, then its parts, shared where the wire can send them in place; the seq is numbered here, at send time.</summary>
    private void WriteText(OutboundFrame frame)
    {
        Span<byte> seq = stackalloc byte[OutboundFrame.SeqDigits];
        var seqLength = 0;
        if (frame.CarriesSeq)
            Utf8Formatter.TryFormat(++_seq, seq, out seqLength);
        var length = frame.SeqPrefix.Length + seqLength + frame.Head.Length + frame.Body.Length + frame.Tail.Length;
        Span<byte> header = stackalloc byte[WebSocketFrames.MaxServerHeader];
        wire.Copy(header[..WebSocketFrames.WriteHeader(header, Opcode.Text, length)]);
        wire.Share(frame.SeqPrefix);
        wire.Copy(seq[..seqLength]);
        wire.Share(frame.Head);
        wire.Share(frame.Body);
        wire.Share(frame.Tail);
    }

    private sealed record ControlFrame(Opcode Opcode, ReadOnlyMemory<byte> Payload);
}
