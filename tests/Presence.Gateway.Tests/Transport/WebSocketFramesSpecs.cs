using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using Presence.Gateway.Tests.Wire;
using Presence.Gateway.Transport;
using Xunit;
using Status = Presence.Gateway.Transport.WebSocketFrames.HeaderStatus;

namespace Presence.Gateway.Tests.Transport;

/// <summary>The pure framing rules of <see cref="WebSocketFrames"/>: header decoding, unmasking in pieces, close payloads, server headers.</summary>
public sealed class WebSocketFramesSpecs
{
    private const uint Mask = 0x37FA213D;

    /// <summary>The length of a masked client header for a payload of <paramref name="length"/> bytes: 2, then 0, 2 or 8 length bytes, then the mask.</summary>
    private static int ClientHeaderLength(long length) => length <= 125 ? 6 : length <= ushort.MaxValue ? 8 : 14;

    /// <summary>Just the header of a masked client frame announcing <paramref name="length"/> bytes.</summary>
    private static byte[] ClientHeader(long length, byte first = 0x81)
    {
        var header = WireClient.Frame(Opcode.Text, new byte[Math.Min(length, 70_000)], mask: Mask)[..ClientHeaderLength(length)];
        header[0] = first;
        if (length > ushort.MaxValue)
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(2), length);
        return header;
    }

    private static Status Read(byte[] bytes, out FrameHeader header, out int headerLength, out Failure failure) =>
        WebSocketFrames.TryReadHeader(new ReadOnlySequence<byte>(bytes), out header, out headerLength, out failure);

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(125L)]
    [InlineData(126L)]
    [InlineData(127L)]
    [InlineData(65535L)]
    [InlineData(65536L)]
    [InlineData(int.MaxValue + 1L)]
    [InlineData(long.MaxValue)]
    public void Should_decode_every_length_form_at_its_boundaries(long length)
    {
        var bytes = ClientHeader(length);

        Assert.Equal(Status.Complete, Read(bytes, out var header, out var headerLength, out _));

        Assert.Equal(new FrameHeader(true, Opcode.Text, length, BinaryPrimitives.ReverseEndianness(Mask)), header);
        Assert.Equal(ClientHeaderLength(length), headerLength);
    }

    /// <summary>Every cut of the header, in one segment or one byte per segment, asks for more; the whole header in segments reads the same.</summary>
    [Theory]
    [InlineData(125L)]
    [InlineData(126L)]
    [InlineData(65536L)]
    public void Should_need_more_data_at_every_truncation_point(long length)
    {
        var bytes = ClientHeader(length);
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var prefix = bytes[..cut];
            Assert.Equal(Status.NeedMoreData, Read(prefix, out _, out _, out _));
            Assert.Equal(Status.NeedMoreData, WebSocketFrames.TryReadHeader(Segments.Bytewise(prefix), out _, out _, out _));
        }

        Assert.Equal(Status.Complete, WebSocketFrames.TryReadHeader(Segments.Bytewise([.. bytes, 1, 2, 3]), out var header, out var headerLength, out _));
        Assert.Equal(length, header.PayloadLength);
        Assert.Equal(bytes.Length, headerLength);
    }

    [Theory]
    [InlineData(0xC1, "reserved bits must be 0")]
    [InlineData(0xA1, "reserved bits must be 0")]
    [InlineData(0x91, "reserved bits must be 0")]
    [InlineData(0x83, "unknown opcode 3")]
    [InlineData(0x8B, "unknown opcode 11")]
    [InlineData(0x09, "control frames must be whole and at most 125 bytes")]
    [InlineData(0x08, "control frames must be whole and at most 125 bytes")]
    public void Should_reject_a_header_that_breaks_the_rules_with_1002(byte first, string reason)
    {
        Assert.Equal(Status.Invalid, Read(ClientHeader(4, first), out _, out _, out var failure));

        Assert.Equal(Failure.Protocol(reason), failure);
    }

    /// <summary>The rules are checked as soon as the bytes that break them are there, not after the rest of the header.</summary>
    [Fact]
    public void Should_reject_an_unmasked_frame_from_its_first_two_bytes()
    {
        Assert.Equal(Status.Invalid, Read([0x81, 0x05], out _, out _, out var failure));
        Assert.Equal(Failure.Protocol("client frames must be masked"), failure);
    }

    [Theory]
    [InlineData(0x89, 126L)]
    [InlineData(0x8A, 65536L)]
    [InlineData(0x88, 200L)]
    public void Should_reject_a_control_frame_over_125_bytes(byte first, long length)
    {
        Assert.Equal(Status.Invalid, Read(ClientHeader(length, first), out _, out _, out var failure));
        Assert.Equal(WebSocketCloseStatus.ProtocolError, failure.Status);
    }

    [Fact]
    public void Should_accept_a_control_frame_of_125_bytes()
    {
        Assert.Equal(Status.Complete, Read(ClientHeader(125, 0x89), out var header, out _, out _));
        Assert.True(header.IsControl);
    }

    [Fact]
    public void Should_reject_a_64_bit_length_with_its_top_bit_set()
    {
        var bytes = ClientHeader(65536);
        bytes[2] = 0x80;

        Assert.Equal(Status.Invalid, Read(bytes, out _, out _, out var failure));
        Assert.Equal(Failure.Protocol("payload length out of range"), failure);
    }

    /// <summary>
    /// A payload unmasked in two or three pieces, cut at every offset, equals the payload unmasked
    /// byte by byte: the mask turns with the offset, and the vectorised part lines up with the rest.
    /// </summary>
    [Theory]
    [InlineData(7)]
    [InlineData(67)]
    public void Should_unmask_piece_by_piece_at_every_offset(int length)
    {
        var plain = Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 1)).ToArray();
        var maskBytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(maskBytes, Mask);
        var masked = plain.Select((b, i) => (byte)(b ^ maskBytes[i & 3])).ToArray();

        for (var first = 0; first <= length; first++)
        {
            for (var second = first; second <= length; second += length > 10 ? 5 : 1)
            {
                var bytes = masked.ToArray();
                WebSocketFrames.Unmask(bytes.AsSpan(0, first), Mask, 0);
                WebSocketFrames.Unmask(bytes.AsSpan(first, second - first), Mask, first);
                WebSocketFrames.Unmask(bytes.AsSpan(second), Mask, second);
                Assert.True(plain.AsSpan().SequenceEqual(bytes), $"pieces cut at {first} and {second}");
            }
        }
    }

    /// <summary>The offset only counts modulo 4, also far into a long frame.</summary>
    [Fact]
    public void Should_unmask_at_an_offset_past_four_gigabytes()
    {
        var maskBytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(maskBytes, Mask);
        var offset = (1L << 32) + 3;
        var bytes = new byte[40];

        WebSocketFrames.Unmask(bytes, Mask, offset);

        Assert.Equal(Enumerable.Range(0, 40).Select(i => maskBytes[(i + 3) & 3]), bytes);
    }

    [Theory]
    [InlineData(0L, 2)]
    [InlineData(125L, 2)]
    [InlineData(126L, 4)]
    [InlineData(65535L, 4)]
    [InlineData(65536L, 10)]
    public void Should_write_server_headers_in_the_shortest_form_unmasked_with_fin(long length, int expected)
    {
        var header = new byte[WebSocketFrames.MaxServerHeader];

        var written = WebSocketFrames.WriteHeader(header, Opcode.Text, length);

        Assert.Equal(expected, written);
        Assert.Equal(0x81, header[0]);
        Assert.Equal(0, header[1] & 0x80);
        var decoded = (header[1] & 0x7F) switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(2)),
            var small => small,
        };
        Assert.Equal(length, decoded);
    }

    [Fact]
    public void Should_read_an_empty_close_as_no_code()
    {
        Assert.True(WebSocketFrames.TryReadClose([], out var status, out _));
        Assert.Null(status);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1011)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(4999)]
    public void Should_read_a_close_with_a_code_a_peer_may_send(int code)
    {
        Assert.True(WebSocketFrames.TryReadClose(WireClient.ClosePayload(code, "r\u00e9ason"), out var status, out _));
        Assert.Equal((WebSocketCloseStatus)code, status);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void Should_refuse_a_close_with_a_code_a_peer_may_not_send_with_1002(int code)
    {
        Assert.False(WebSocketFrames.TryReadClose(WireClient.ClosePayload(code), out _, out var failure));
        Assert.Equal(WebSocketCloseStatus.ProtocolError, failure.Status);
    }

    [Fact]
    public void Should_refuse_a_one_byte_close_with_1002()
    {
        Assert.False(WebSocketFrames.TryReadClose([0x03], out _, out var failure));
        Assert.Equal(WebSocketCloseStatus.ProtocolError, failure.Status);
    }

    [Fact]
    public void Should_refuse_a_close_reason_that_is_not_utf8_with_1007()
    {
        Assert.False(WebSocketFrames.TryReadClose([.. WireClient.ClosePayload(1000), 0xED, 0xA0, 0x80], out _, out var failure));
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, failure.Status);
    }

    [Fact]
    public void Should_write_a_close_payload_that_reads_back()
    {
        var payload = WebSocketFrames.ClosePayload(WebSocketCloseStatus.PolicyViolation, "caf\u00e9");

        Assert.Equal(WireClient.ClosePayload(1008, "caf\u00e9"), payload);
        Assert.True(WebSocketFrames.TryReadClose(payload, out var status, out _));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
    }
}
