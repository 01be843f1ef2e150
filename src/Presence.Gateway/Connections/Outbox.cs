using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using System.Threading.Channels;
using Presence.Gateway.Operators;

namespace Presence.Gateway.Connections;

/// <summary>
/// The send side of one socket: a queue that many threads may write to and one
/// loop that drains it onto the socket. Presence lists are latest-wins: a newer
/// list replaces an unsent older one, so a slow reader only ever misses
/// intermediate lists. Any other frame that would take the unsent bytes past
/// the bound is refused, and the caller closes the socket as a slow consumer.
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

    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private OutboundFrame? _pendingPresence;
    private volatile bool _discardQueued;
    private long _bufferedBytes;
    private long _seq;

    /// <summary>Queues a frame; false when the reader is too far behind to take it (or the outbox is closed).</summary>
    public bool TrySend(OutboundFrame frame)
    {
        if (Interlocked.Add(ref _bufferedBytes, frame.Length) > maxBufferedBytes)
        {
            Interlocked.Add(ref _bufferedBytes, -frame.Length);
            GatewayMetrics.EventDropped("slow_consumer");
            return false;
        }
        return _queue.Writer.TryWrite(frame);
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
        if (replaced is null)
            _queue.Writer.TryWrite(PresenceSlot);
        else
            Interlocked.Add(ref _bufferedBytes, -replaced.Length);
        if (replaced is not null)
            GatewayMetrics.EventDropped("superseded");
    }

    /// <summary>
    /// Queues a close; nothing queued later is sent. With <paramref name="discardQueued"/> the frames
    /// still waiting are dropped too, so that a reader that fell behind is closed without first being fed.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        _discardQueued |= discardQueued;
        _queue.Writer.TryWrite(new CloseRequest(status, reason));
        _queue.Writer.TryComplete();
    }

    /// <summary>Stops the writer without a close handshake (the socket is already gone).</summary>
    public void Abandon() => _queue.Writer.TryComplete();

    /// <summary>Drains the queue onto <paramref name="socket"/> until closed; returns the close that was sent, if any.</summary>
    public async Task<CloseRequest?> RunAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (_discardQueued && item is not CloseRequest)
                    continue;
                switch (item)
                {
                    case OutboundFrame frame:
                        await WriteAsync(socket, frame, cancellationToken).ConfigureAwait(false);
                        break;
                    case CloseRequest close:
                        return close;
                    default:
                        if (Interlocked.Exchange(ref _pendingPresence, null) is { } presence)
                            await WriteAsync(socket, presence, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }
        return null;
    }

    private async ValueTask WriteAsync(WebSocket socket, OutboundFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            if (!frame.CarriesSeq && frame.Body.IsEmpty && frame.Tail.IsEmpty)
                await socket.SendAsync(frame.Head, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            else
                await WritePartsAsync(socket, frame, cancellationToken).ConfigureAwait(false);
            if (frame.CarriesSeq)
                GatewayMetrics.EventSent();
        }
        finally
        {
            Interlocked.Add(ref _bufferedBytes, -frame.Length);
        }
    }

    private async ValueTask WritePartsAsync(WebSocket socket, OutboundFrame frame, CancellationToken cancellationToken)
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
                await socket.SendAsync(lead.AsMemory(0, at), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                return;
            }
            await socket.SendAsync(lead.AsMemory(0, at), WebSocketMessageType.Text, endOfMessage: false, cancellationToken).ConfigureAwait(false);
            for (var body = frame.Body; !body.IsEmpty; body = body[Math.Min(MaxFragment, body.Length)..])
            {
                var last = body.Length <= MaxFragment && frame.Tail.IsEmpty;
                await socket.SendAsync(body[..Math.Min(MaxFragment, body.Length)], WebSocketMessageType.Text, endOfMessage: last, cancellationToken).ConfigureAwait(false);
            }
            if (!frame.Tail.IsEmpty)
                await socket.SendAsync(frame.Tail, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
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
