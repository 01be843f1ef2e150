using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Presence.Gateway.Connections;
using Presence.Gateway.Transport;
using Xunit;

namespace Presence.Gateway.Tests.Transport;

/// <summary>The send side of a socket over a real pipe and a real loopback socket: what reaches the wire, in which order, when the reader is slow or gone.</summary>
public sealed class OutboxSpecs
{
    [Fact]
    public async Task Should_leave_a_stalled_reader_with_the_newest_presence_list()
    {
        // A pipe that takes 1 KB before the writer must wait: the reader is not reading.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false));
        var outbox = new Outbox(new PipeWire(pipe.Writer), maxBufferedBytes: 4096);
        var large = new string('x', 2000);

        for (var version = 1; version <= 50; version++)
            outbox.OfferPresence(Presence(version, large));
        outbox.Close(WebSocketCloseStatus.NormalClosure, "");

        var frames = await ReadFramesAsync(pipe.Reader);
        var lists = frames.Where(frame => frame.Opcode == Opcode.Text).Select(frame => frame.Text).ToList();
        Assert.InRange(lists.Count, 1, 3);
        Assert.Contains("\"version\":50", lists[^1]);
        Assert.Equal(Opcode.Close, frames[^1].Opcode);
    }

    [Fact]
    public async Task Should_send_the_first_close_queued_after_what_was_queued_before_it()
    {
        var pipe = new Pipe();
        var outbox = new Outbox(new PipeWire(pipe.Writer), maxBufferedBytes: 4096);

        Assert.True(outbox.TrySend(OutboundFrame.Whole("{\"type\":\"res\",\"id\":\"c1\",\"ok\":false}"u8.ToArray())));
        Assert.True(outbox.Close(WebSocketCloseStatus.PolicyViolation, "unauthorized"));
        // The client's own close, arriving at the same moment, is answered by the close already queued.
        Assert.False(outbox.Close(WebSocketCloseStatus.NormalClosure, ""));
        Assert.False(outbox.TrySend(OutboundFrame.Whole("{}"u8.ToArray())));

        var frames = await ReadFramesAsync(pipe.Reader);
        Assert.Equal([Opcode.Text, Opcode.Close], frames.Select(frame => frame.Opcode));
        Assert.Equal(1008, frames[1].Payload[0] << 8 | frames[1].Payload[1]);
        Assert.Equal("unauthorized", Encoding.UTF8.GetString(frames[1].Payload.AsSpan(2)));
    }

    [Fact]
    public async Task Should_refuse_a_frame_past_the_bound_and_send_nothing_queued_after_a_discarding_close()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, useSynchronizationContext: false));
        var outbox = new Outbox(new PipeWire(pipe.Writer), maxBufferedBytes: 300);
        var reply = OutboundFrame.Whole(Encoding.UTF8.GetBytes("{\"r\":\"" + new string('y', 100) + "\"}"));

        Assert.True(outbox.TrySend(reply));
        Assert.True(outbox.TrySend(reply));
        Assert.True(outbox.TrySend(reply));
        Assert.False(outbox.TrySend(reply));
        outbox.Close(WebSocketCloseStatus.PolicyViolation, "slow consumer", discardQueued: true);

        var frames = await ReadFramesAsync(pipe.Reader);
        Assert.Equal(Opcode.Close, frames[^1].Opcode);
        Assert.True(frames.Count(frame => frame.Opcode == Opcode.Text) < 3);
    }

    [Fact]
    public async Task Should_number_events_at_send_time_and_write_server_frames_unmasked()
    {
        var pipe = new Pipe();
        var outbox = new Outbox(new PipeWire(pipe.Writer), maxBufferedBytes: 4096);
        var tick = new OutboundFrame("{\"type\":\"event\",\"event\":\"tick\",\"seq\":"u8.ToArray(), ",\"payload\":{}}"u8.ToArray(), default, default);

        outbox.TrySend(tick);
        outbox.TrySend(tick);
        outbox.Close(WebSocketCloseStatus.NormalClosure, "");

        var frames = await ReadFramesAsync(pipe.Reader);
        Assert.Equal(
            ["{\"type\":\"event\",\"event\":\"tick\",\"seq\":1,\"payload\":{}}", "{\"type\":\"event\",\"event\":\"tick\",\"seq\":2,\"payload\":{}}"],
            frames.Where(frame => frame.Opcode == Opcode.Text).Select(frame => frame.Text));
    }

    [Fact]
    public async Task Should_send_shared_bodies_in_order_over_sockets_that_cannot_take_them_at_once()
    {
        // Two sockets at once, so that a scratch array given back too early would be rented by the other and overwritten.
        var pairs = new[] { await ConnectedPairAsync(), await ConnectedPairAsync() };
        var outboxes = pairs.Select(pair => new Outbox(new SocketWire(pair.Server), maxBufferedBytes: 64 << 20)).ToArray();
        // Far more than the socket buffers hold while nobody reads: most sends complete later, on another thread.
        // Each socket's frames have lengths of their own, so its headers differ from the other's.
        var bodies = outboxes.Select((_, k) => Enumerable.Range(0, 40).Select(i => Encoding.UTF8.GetBytes($"\"{i}:{new string((char)('a' + i % 26), 60_000 + i + 7 * k)}\"")).ToArray()).ToArray();
        var tick = new OutboundFrame("{\"type\":\"event\",\"event\":\"tick\",\"seq\":"u8.ToArray(), ",\"payload\":{}}"u8.ToArray(), default, default);

        for (var i = 0; i < bodies[0].Length; i++)
        {
            for (var k = 0; k < outboxes.Length; k++)
            {
                var outbox = outboxes[k];
                Assert.True(outbox.TrySend(new OutboundFrame(default, "{\"res\":"u8.ToArray(), bodies[k][i], "}"u8.ToArray())));
                Assert.True(outbox.TrySend(tick));
                outbox.SendControl(Opcode.Ping, ReadOnlyMemory<byte>.Empty);
            }
        }
        foreach (var outbox in outboxes)
            outbox.Close(WebSocketCloseStatus.NormalClosure, "done");

        var received = await Task.WhenAll(pairs.Select(pair => ReadFramesAsync(PipeReader.Create(new NetworkStream(pair.Client)))));
        for (var k = 0; k < outboxes.Length; k++)
        {
            var expected = bodies[k].SelectMany((body, i) => new[]
            {
                (Opcode.Text, "{\"res\":" + Encoding.UTF8.GetString(body) + "}"),
                (Opcode.Text, $"{{\"type\":\"event\",\"event\":\"tick\",\"seq\":{i + 1},\"payload\":{{}}}}"),
                (Opcode.Ping, ""),
            }).Append((Opcode.Close, "\u0003\u00e8done"));
            Assert.Equal(expected, received[k].Select(frame => (frame.Opcode, frame.Opcode == Opcode.Close ? Encoding.Latin1.GetString(frame.Payload) : frame.Text)));
        }
        await Task.WhenAll(outboxes.Select(outbox => outbox.Finished)).WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var (server, client) in pairs)
        {
            server.Dispose();
            client.Dispose();
        }
    }

    [Fact]
    public async Task Should_finish_without_throwing_when_the_socket_was_reset()
    {
        var (server, client) = await ConnectedPairAsync();
        using var _ = server;
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        var outbox = new Outbox(new SocketWire(server), maxBufferedBytes: 1 << 20);

        outbox.TrySend(OutboundFrame.Whole(new byte[10_000]));
        outbox.Close(WebSocketCloseStatus.NormalClosure, "");

        await outbox.Finished.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        // Small buffers, so that a few frames fill them while the client does not read.
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 32 << 10 };
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        server.SendBufferSize = 32 << 10;
        return (server, client);
    }

    private static OutboundFrame Presence(int version, string filler) =>
        new("{\"type\":\"event\",\"event\":\"presence\",\"seq\":"u8.ToArray(), Encoding.UTF8.GetBytes($",\"version\":{version},\"payload\":\"{filler}\"}}"), default, default);

    /// <summary>Reads server frames (FIN set, never masked) until the close frame, checking each header as a client would.</summary>
    private static async Task<List<(Opcode Opcode, byte[] Payload, string Text)>> ReadFramesAsync(PipeReader reader)
    {
        var frames = new List<(Opcode, byte[], string)>();
        var closed = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!closed)
        {
            var result = await reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            while (TryReadFrame(ref buffer, out var frame))
            {
                frames.Add(frame);
                closed |= frame.Opcode == Opcode.Close;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted && !closed, "the outbox completed without a close frame");
        }
        return frames;
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out (Opcode Opcode, byte[] Payload, string Text) frame)
    {
        frame = default;
        if (buffer.Length < 2)
            return false;
        var header = buffer.Slice(0, Math.Min(10, buffer.Length)).ToArray();
        Assert.Equal(0x80, header[0] & 0xF0);
        Assert.Equal(0, header[1] & 0x80);
        long length = header[1] & 0x7F;
        var at = 2;
        if (length == 126)
        {
            if (header.Length < 4)
                return false;
            length = header[2] << 8 | header[3];
            at = 4;
        }
        else if (length == 127)
        {
            if (header.Length < 10)
                return false;
            length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(2));
            at = 10;
        }
        if (buffer.Length < at + length)
            return false;
        var payload = buffer.Slice(at, length).ToArray();
        frame = ((Opcode)(header[0] & 0x0F), payload, Encoding.UTF8.GetString(payload));
        buffer = buffer.Slice(at + length);
        return true;
    }
}
