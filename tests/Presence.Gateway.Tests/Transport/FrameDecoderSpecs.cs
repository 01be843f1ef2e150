using System.Buffers;
using System.Text;
using Presence.Gateway.Transport;
using Xunit;
using static Presence.Gateway.Tests.Wire.WireClient;

namespace Presence.Gateway.Tests.Transport;

/// <summary>The read loop's decoding (<see cref="FrameDecoder"/>) fed as a pipe feeds it: reads of any size, each a new segment after what is left unconsumed.</summary>
public sealed class FrameDecoderSpecs
{
    private const int Bound = 1024;

    /// <summary>What the decoder found, as text: "Text:payload", "Ping:payload", "Close:1000", "Failure:1002".</summary>
    private static List<string> Decode(byte[] bytes, int readSize, FrameDecoder? decoder = null)
    {
        decoder ??= new FrameDecoder(Bound);
        var found = new List<string>();
        var unconsumed = Array.Empty<byte>();
        for (var arrived = 0; arrived < bytes.Length;)
        {
            var read = bytes.AsSpan(arrived, Math.Min(readSize, bytes.Length - arrived)).ToArray();
            arrived += read.Length;
            var buffer = Segments.Split([.. unconsumed, .. read], unconsumed.Length);
            while (decoder.Next(ref buffer) is { Kind: not DecodedKind.NeedMoreData } decoded)
            {
                found.Add(decoded.Kind switch
                {
                    DecodedKind.Message => $"{decoded.Opcode}:{Encoding.UTF8.GetString(decoded.Payload.Span)}",
                    DecodedKind.Ping or DecodedKind.Pong => $"{decoded.Kind}:{Encoding.UTF8.GetString(decoded.Payload.Span)}",
                    DecodedKind.Close => $"Close:{(int?)decoded.CloseStatus}",
                    _ => $"Failure:{(int)decoded.Failure.Status}",
                });
            }
            unconsumed = buffer.ToArray();
        }
        return found;
    }

    [Fact]
    public void Should_decode_a_whole_message_in_place()
    {
        var bytes = TextFrame("{\"a\":1}");
        var buffer = new ReadOnlySequence<byte>(bytes);

        var decoded = new FrameDecoder(Bound).Next(ref buffer);

        Assert.Equal(DecodedKind.Message, decoded.Kind);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(decoded.Payload.Span));
        Assert.True(buffer.IsEmpty);
        Assert.Equal("{\"a\":1}"u8.ToArray(), bytes[6..]);
    }

    /// <summary>However the bytes are cut into reads, the same frames come out, in the same order.</summary>
    [Fact]
    public void Should_decode_the_same_frames_in_reads_of_any_size()
    {
        byte[] bytes = [
            .. TextFrame("{\"frag", fin: false), .. Frame(Opcode.Ping, "p1"u8), .. TextFrame("mented\":", fin: false, Opcode.Continuation),
            .. Frame(Opcode.Pong, "p2"u8), .. TextFrame(" \"caf\u00e9\"}", fin: true, Opcode.Continuation),
            .. Frame(Opcode.Binary, Encoding.UTF8.GetBytes(new string('b', 300))), .. Frame(Opcode.Close, ClosePayload(4000, "done"))];
        string[] expected = ["Ping:p1", "Pong:p2", "Text:{\"fragmented\": \"caf\u00e9\"}", $"Binary:{new string('b', 300)}", "Close:4000"];

        for (var readSize = 1; readSize <= bytes.Length; readSize += readSize < 20 ? 1 : 37)
            Assert.Equal(expected, Decode(bytes, readSize));
    }

    [Fact]
    public void Should_fail_with_1009_from_the_header_alone_and_accept_more_once_the_bound_is_raised()
    {
        var header = Frame(Opcode.Text, new byte[Bound + 1])[..8];
        Assert.Equal(["Failure:1009"], Decode(header, header.Length));

        var raised = new FrameDecoder(Bound) { MaxMessageBytes = Bound + 1 };
        Assert.Equal([$"Text:{new string('x', Bound + 1)}"], Decode(TextFrame(new string('x', Bound + 1)), 100, raised));
    }

    [Fact]
    public void Should_discard_everything_after_a_failure()
    {
        var decoder = new FrameDecoder(Bound);

        Assert.Equal(["Failure:1007"], Decode([.. Frame(Opcode.Text, [0xFF]), .. TextFrame("{}")], 3, decoder));

        Assert.True(decoder.Failed);
        var more = new ReadOnlySequence<byte>(TextFrame("{}"));
        Assert.Equal(DecodedKind.NeedMoreData, decoder.Next(ref more).Kind);
        Assert.True(more.IsEmpty);
    }

    [Fact]
    public void Should_read_the_code_of_an_invalid_close_as_a_failure()
    {
        Assert.Equal(["Failure:1002"], Decode(Frame(Opcode.Close, ClosePayload(1005)), 2));
        Assert.Equal(["Failure:1007"], Decode(Frame(Opcode.Close, [.. ClosePayload(1000), 0xC0]), 2));
        Assert.Equal(["Close:"], Decode(Frame(Opcode.Close, []), 1));
    }

    [Fact]
    public void Should_be_between_frames_only_where_a_frame_starts()
    {
        var decoder = new FrameDecoder(Bound);
        var bytes = TextFrame("{\"a\":1}");
        var partial = new ReadOnlySequence<byte>(bytes[..9]);

        Assert.Equal(DecodedKind.NeedMoreData, decoder.Next(ref partial).Kind);

        Assert.False(decoder.BetweenFrames);
        var rest = new ReadOnlySequence<byte>(bytes[9..]);
        Assert.Equal(DecodedKind.Message, decoder.Next(ref rest).Kind);
        Assert.True(decoder.BetweenFrames);
    }
}
