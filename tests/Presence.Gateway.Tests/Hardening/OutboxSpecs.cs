using System.Net.WebSockets;
using System.Text;
using Presence.Gateway.Connections;
using Xunit;

namespace Presence.Gateway.Tests.Hardening;

/// <summary>How the send side of a socket cuts a large message into WebSocket fragments.</summary>
public sealed class OutboxSpecs
{
    [Fact]
    public async Task Should_send_a_200_row_list_in_fragments_whose_send_buffers_stay_off_the_large_object_heap()
    {
        var body = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Repeat("\"" + new string('r', 370) + "\"", 200)) + "]");
        var outbox = new Outbox(maxBufferedBytes: 1 << 20);
        Assert.True(outbox.TrySend(new OutboundFrame(default, "{\"payload\":"u8.ToArray(), body, "}"u8.ToArray())));
        outbox.Close(WebSocketCloseStatus.NormalClosure, "");
        var socket = new RecordingSocket();

        outbox.Start(socket, CancellationToken.None);
        await outbox.Finished.WaitAsync(TimeSpan.FromSeconds(10));

        // ManagedWebSocket rents a buffer of the next power of two above fragment + header (14 bytes at most):
        // it must stay below the 85,000-byte large object threshold, i.e. at 64 KB.
        Assert.All(socket.Sends, send => Assert.True(send.Bytes.Length + 14 <= 65_536, $"a fragment of {send.Bytes.Length} bytes"));
        Assert.True(socket.Sends.Count > 3, $"{socket.Sends.Count} sends for a body of {body.Length} bytes");
        Assert.Equal([.. Enumerable.Repeat(false, socket.Sends.Count - 1), true], socket.Sends.Select(s => s.EndOfMessage));
        Assert.Equal("{\"payload\":" + Encoding.UTF8.GetString(body) + "}", Encoding.UTF8.GetString([.. socket.Sends.SelectMany(s => s.Bytes)]));
    }

    /// <summary>Keeps what would go on the wire, one entry per SendAsync.</summary>
    private sealed class RecordingSocket : WebSocket
    {
        public List<(byte[] Bytes, bool EndOfMessage)> Sends { get; } = [];

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => WebSocketState.Open;

        public override string? SubProtocol => null;

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            Sends.Add((buffer.ToArray(), endOfMessage));
            return Task.CompletedTask;
        }

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the outbox only sends");

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Abort()
        {
        }

        public override void Dispose()
        {
        }
    }
}
