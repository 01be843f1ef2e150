using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Presence.Gateway.Transport;

/// <summary>
/// Where an <see cref="Outbox"/>'s bytes go. A drain appends frame after frame, then flushes once;
/// one drain at a time, and the next starts only after the previous flush completed.
/// </summary>
internal abstract class OutboxWire
{
    /// <summary>
    /// The socket itself when the connection is plain TCP, so that a shared body reaches the kernel without a copy per
    /// recipient; under TLS the connection's pipe, which is where the encryption is.
    /// </summary>
    public static OutboxWire For(ConnectionContext context) =>
        context.Features.Get<ITlsHandshakeFeature>() is null && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket
            ? new SocketWire(socket)
            : new PipeWire(context.Transport.Output);

    /// <summary>Appends bytes the caller may reuse as soon as this returns (a header, seq digits).</summary>
    public abstract void Copy(ReadOnlySpan<byte> bytes);

    /// <summary>Appends bytes that stay unchanged until sent (a presence list shared by every reader).</summary>
    public abstract void Share(ReadOnlyMemory<byte> bytes);

    /// <summary>Hands everything appended to the transport; completes once the wire takes more.</summary>
    public abstract ValueTask FlushAsync();
}

/// <summary>The connection's pipe: every part copied into the transport's buffers, sent by the transport's own loop.</summary>
internal sealed class PipeWire(PipeWriter output) : OutboxWire
{
    public override void Copy(ReadOnlySpan<byte> bytes) => output.Write(bytes);

    public override void Share(ReadOnlyMemory<byte> bytes) => output.Write(bytes.Span);

    public override ValueTask FlushAsync()
    {
        var flush = output.FlushAsync();
        return flush.IsCompletedSuccessfully ? default : new ValueTask(flush.AsTask());
    }
}

/// <summary>
/// The socket, written directly with one gathered send per flush: small parts are copied into a
/// rented scratch array, large shared ones are handed to the kernel where they lie. The send is tried
/// on the calling thread; only one the kernel cannot take at once completes later. Nothing is held
/// between flushes but the segment list.
/// </summary>
internal sealed class SocketWire(Socket socket) : OutboxWire
{
    /// <summary>Below this a part is copied: an extra iovec costs more than the copy.</summary>
    private const int ShareAtLeast = 1024;

    private const int ScratchSize = 4096;

    private readonly List<ArraySegment<byte>> _segments = [];
    private readonly List<byte[]> _scratches = [];
    private int _scratchUsed;

    public override void Copy(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        var scratch = _scratches.Count == 0 ? null : _scratches[^1];
        if (scratch is null || scratch.Length - _scratchUsed < bytes.Length)
        {
            scratch = ArrayPool<byte>.Shared.Rent(Math.Max(ScratchSize, bytes.Length));
            _scratches.Add(scratch);
            _scratchUsed = 0;
        }
        bytes.CopyTo(scratch.AsSpan(_scratchUsed));
        // Consecutive small parts of the same scratch go out as one iovec.
        if (_segments.Count > 0 && _segments[^1] is var last && last.Array == scratch && last.Offset + last.Count == _scratchUsed)
            _segments[^1] = new ArraySegment<byte>(scratch, last.Offset, last.Count + bytes.Length);
        else
            _segments.Add(new ArraySegment<byte>(scratch, _scratchUsed, bytes.Length));
        _scratchUsed += bytes.Length;
    }

    public override void Share(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length >= ShareAtLeast && MemoryMarshal.TryGetArray(bytes, out var segment))
            _segments.Add(segment);
        else
            Copy(bytes.Span);
    }

    public override ValueTask FlushAsync()
    {
        if (_segments.Count == 0)
            return default;
        ValueTask<int> send;
        try
        {
            // A reply alone is one segment: the socket's single-buffer send allocates nothing. The list is copied by the
            // socket; the arrays it points to stay ours until the send completes.
            send = _segments.Count == 1
                ? socket.SendAsync(_segments[0].AsMemory(), SocketFlags.None)
                : new ValueTask<int>(socket.SendAsync(_segments, SocketFlags.None));
        }
        catch
        {
            ReturnScratches();
            throw;
        }
        finally
        {
            _segments.Clear();
        }
        if (!send.IsCompleted)
            return new ValueTask(ReturnScratchesAfterAsync(send));
        ReturnScratches();
        // A send that failed at once throws here.
        send.GetAwaiter().GetResult();
        return default;
    }

    private async Task ReturnScratchesAfterAsync(ValueTask<int> send)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        finally
        {
            ReturnScratches();
        }
    }

    private void ReturnScratches()
    {
        foreach (var scratch in _scratches)
            ArrayPool<byte>.Shared.Return(scratch);
        _scratches.Clear();
        _scratchUsed = 0;
    }
}
