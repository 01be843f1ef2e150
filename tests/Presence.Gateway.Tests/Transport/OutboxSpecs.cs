using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Presence.Gateway.Connections;
using Presence.Gateway.Transport;
using Xunit;

namespace Presence.Gateway.Tests.Transport;

/// <summary>The send side of a socket over a real pipe: what reaches the wire, in which order, when the reader is slow or gone.</summary>
public sealed class OutboxSpecs
{
    [Fact]
    public async Task Should_leave_a_stalled_reader_with_the_newest_presence_list()
    {
        // A pipe that takes 1 KB before the writer must wait: the reader is not reading.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false));
        var outbox = new Outbox(pipe.Writer, maxBufferedBytes: 4096);
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
        var outbox = new Outbox(pipe.Writer, maxBufferedBytes: 4096);

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
        var outbox = new Outbox(pipe.Writer, maxBufferedBytes: 300);
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
        var outbox = new Outbox(pipe.Writer, maxBufferedBytes: 4096);
        var tick = new OutboundFrame("{\"type\":\"event\",\"event\":\"tick\",\"seq\":"u8.ToArray(), ",\"payload\":{}}"u8.ToArray(), default, default);

        outbox.TrySend(tick);
        outbox.TrySend(tick);
        outbox.Close(WebSocketCloseStatus.NormalClosure, "");

        var frames = await ReadFramesAsync(pipe.Reader);
        Assert.Equal(
            ["{\"type\":\"event\",\"event\":\"tick\",\"seq\":1,\"payload\":{}}", "{\"type\":\"event\",\"event\":\"tick\",\"seq\":2,\"payload\":{}}"],
            frames.Where(frame => frame.Opcode == Opcode.Text).Select(frame => frame.Text));
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
