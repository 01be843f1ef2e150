using System.Buffers;
using System.Net.WebSockets;

namespace Presence.LoadTest;

/// <summary>Reads whole WebSocket messages into pooled buffers; shared by the load clients and the stub server.</summary>
internal static class MessageReader
{
    /// <summary>
    /// Waits for the next message without holding a buffer (a zero-byte read parks an idle
    /// socket, which matters at 18,000 of them), then reads it whole into a buffer rented from
    /// <see cref="ArrayPool{T}.Shared"/> that the caller returns. Null when the peer closes.
    /// </summary>
    public static async ValueTask<(byte[] Buffer, int Length)?> ReadAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var peek = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        if (peek.MessageType == WebSocketMessageType.Close)
            return null;
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 4);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
                length += result.Count;
                if (result.EndOfMessage)
                    return (buffer, length);
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
