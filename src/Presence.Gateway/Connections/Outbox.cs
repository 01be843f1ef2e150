using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using Presence.Gateway.Operators;

namespace Presence.Gateway.Connections;

/// <summary>
/// The send side of one socket: a queue that many threads may write to, drained
/// by at most one of them at a time. Whoever queues onto an idle outbox drains it
/// on its own thread, so a reply usually reaches Kestrel's pipe without waking
/// another thread; a send that has to wait for the socket finishes on the thread
/// that completes it. Presence lists are latest-wins: a newer list replaces an
/// unsent older one, so a slow reader only ever misses intermediate lists. Any
/// other frame that would take the unsent bytes past the bound is refused, and
/// the caller closes the socket as a slow consumer.
/// </summary>
internal sealed class Outbox(long maxBufferedBytes)
{
    /// <summary>Below this size a frame's parts are copied into one message; above it they go as fragments sharing the body.</summary>
    private const int CoalesceLimit = 4096;

    /// <summary>
    /// The largest fragment of a body. ManagedWebSocket copies each fragment into an array rented at the
    /// next power of two above its size: a 75 KB list sent whole rents 128 KB, which is on the large object
    /// heap, and whenever more sends are in flight than the pool holds, it allocates and drops such arrays.
    /// Each one left a full (gen2) collection due and the large object heap fragmented: the soak saw 1.6
    /// gen2 collections a second and RSS growing 10 % in 30 minutes. 32 KB fragments rent 64 KB arrays.
    /// </summary>
    private const int MaxFragment = 32 * 1024;

    private static readonly object PresenceSlot = new();

    // Not a ConcurrentQueue: that allocates a 32-slot segment up front, about 0.8 KB on every idle socket.
    private readonly Queue<object> _queue = new(0);
    private readonly TaskCompletionSource<CloseRequest?> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebSocket? _socket;
    private CancellationToken _cancellation;
    private OutboundFrame? _pendingPresence;
    private volatile bool _discardQueued;
    private volatile bool _abandoned;
    private int _closed;
    private int _draining;
    private long _bufferedBytes;
    private long _seq;

    /// <summary>Completes when the outbox is done: with the close to send, or null when the socket went away first.</summary>
    public Task<CloseRequest?> Finished => _finished.Task;

    /// <summary>Queues a frame; false when the reader is too far behind to take it (or the outbox is closed).</summary>
    public bool TrySend(OutboundFrame frame)
    {
        if (Volatile.Read(ref _closed) != 0)
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

    /// <summary>Queues a presence list, replacing an unsent one; skipped while the reader is past the bound.</summary>
    public void OfferPresence(OutboundFrame frame)
    {
        if (Volatile.Read(ref _bufferedBytes) + frame.Length > maxBufferedBytes)
        {
            GatewayMetrics.EventDropped("buffer_full");
            return;
        }
        Interlocked.Add(ref _bufferedBytes, frame.Length);
        var replaced = Interlocked.Exchange(ref _pendingPresence, frame);
        if (replaced is not null)
        {
            Interlocked.Add(ref _bufferedBytes, -replaced.Length);
            GatewayMetrics.EventDropped("superseded");
            return;
        }
        if (Volatile.Read(ref _closed) == 0)
        {
            Enqueue(PresenceSlot);
        }
    }

    /// <summary>
    /// Queues a close; nothing queued later is sent. With <paramref name="discardQueued"/> the frames
    /// still waiting are dropped too, so that a reader that fell behind is closed without first being fed.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        _discardQueued |= discardQueued;
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        Enqueue(new CloseRequest(status, reason));
    }

    /// <summary>Stops sending without a close handshake (the socket is already gone).</summary>
    public void Abandon()
    {
        Interlocked.Exchange(ref _closed, 1);
        _abandoned = true;
        Drain();
    }

    /// <summary>Starts sending onto <paramref name="socket"/>, beginning with what was queued before it was ready.</summary>
    public void Start(WebSocket socket, CancellationToken cancellationToken)
    {
        _cancellation = cancellationToken;
        Volatile.Write(ref _socket, socket);
        Drain();
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
        if (Volatile.Read(ref _socket) is not { } socket || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
            return;
        _ = DrainAsync(socket);
    }

    private async Task DrainAsync(WebSocket socket)
    {
        try
        {
            while (true)
            {
                if (_abandoned)
                {
                    _finished.TrySetResult(null);
                    return;
                }
                if (TryDequeue(out var item))
                {
                    if (item is CloseRequest close)
                    {
                        _finished.TrySetResult(close);
                        return;
                    }
                    await WriteAsync(socket, item).ConfigureAwait(false);
                    continue;
                }
                Volatile.Write(ref _draining, 0);
                // A frame queued (or an abandon) after the empty check but before the release found the flag still taken.
                if ((IsEmpty() && !_abandoned) || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                    return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The peer went away while we were writing; the read loop sees it too and ends the connection.
            _finished.TrySetResult(null);
        }
        catch (Exception ex)
        {
            _finished.TrySetException(ex);
        }
    }

    private async ValueTask WriteAsync(WebSocket socket, object item)
    {
        var frame = item as OutboundFrame ?? Interlocked.Exchange(ref _pendingPresence, null);
        if (frame is null)
            return;
        try
        {
            if (_discardQueued)
                return;
            if (!frame.CarriesSeq && frame.Body.IsEmpty && frame.Tail.IsEmpty)
                await socket.SendAsync(frame.Head, WebSocketMessageType.Text, endOfMessage: true, _cancellation).ConfigureAwait(false);
            else
                await WritePartsAsync(socket, frame).ConfigureAwait(false);
            if (frame.CarriesSeq)
                GatewayMetrics.EventSent();
        }
        finally
        {
            Interlocked.Add(ref _bufferedBytes, -frame.Length);
        }
    }

    /// <summary>
    /// A small frame goes as one message from one pooled buffer. A large one goes as fragments around
    /// its shared body: <c>ManagedWebSocket</c> copies every payload into a buffer it rents, so joining
    /// first would hold two rented copies per pending socket, and under a fan-out to hundreds of
    /// sockets nearly every rent of that size misses the pool and allocates on the large object heap.
    /// </summary>
    private async ValueTask WritePartsAsync(WebSocket socket, OutboundFrame frame)
    {
        var inline = frame.Body.Length + frame.Tail.Length <= CoalesceLimit;
        var leadLength = frame.SeqPrefix.Length + OutboundFrame.SeqDigits + frame.Head.Length + (inline ? frame.Body.Length + frame.Tail.Length : 0);
        var lead = ArrayPool<byte>.Shared.Rent(leadLength);
        try
        {
            var at = Append(lead, 0, frame.SeqPrefix.Span);
            if (frame.CarriesSeq)
            {
                Utf8Formatter.TryFormat(++_seq, lead.AsSpan(at), out var written);
                at += written;
            }
            at = Append(lead, at, frame.Head.Span);
            if (inline)
            {
                at = Append(lead, at, frame.Body.Span);
                at = Append(lead, at, frame.Tail.Span);
                await socket.SendAsync(lead.AsMemory(0, at), WebSocketMessageType.Text, endOfMessage: true, _cancellation).ConfigureAwait(false);
                return;
            }
            await socket.SendAsync(lead.AsMemory(0, at), WebSocketMessageType.Text, endOfMessage: false, _cancellation).ConfigureAwait(false);
            for (var body = frame.Body; !body.IsEmpty; body = body[Math.Min(MaxFragment, body.Length)..])
            {
                var last = body.Length <= MaxFragment && frame.Tail.IsEmpty;
                await socket.SendAsync(body[..Math.Min(MaxFragment, body.Length)], WebSocketMessageType.Text, endOfMessage: last, _cancellation).ConfigureAwait(false);
            }
            if (!frame.Tail.IsEmpty)
                await socket.SendAsync(frame.Tail, WebSocketMessageType.Text, endOfMessage: true, _cancellation).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(lead);
        }
    }

    private static int Append(byte[] buffer, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.AsSpan(at));
        return at + bytes.Length;
    }
}

/// <summary>A close the connection asked for: the status code and a reason of at most 120 UTF-8 bytes.</summary>
internal sealed record CloseRequest(WebSocketCloseStatus Status, string Reason);
