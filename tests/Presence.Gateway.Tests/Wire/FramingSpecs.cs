using System.Text;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Transport;
using Xunit;
using static Presence.Gateway.Tests.Wire.WireClient;

namespace Presence.Gateway.Tests.Wire;

/// <summary>
/// RFC 6455 framing of the gateway's own transport, checked over raw TCP with frames written by
/// hand: what a client may send (masked frames, fragments, control frames between them), what
/// fails the connection and with which close code, and that the TCP connection then ends.
/// </summary>
public sealed class FramingSpecs
{
    private const int ProtocolError = 1002;
    private const int InvalidPayloadData = 1007;
    private const int MessageTooBig = 1009;

    /// <summary>gateway.preauth-max-payload's default.</summary>
    private const int PreauthMaxPayload = 64 * 1024;

    private static string Connect(string id = "c1", string? token = TestGateway.Token) =>
        new JsonObject { ["type"] = "req", ["id"] = id, ["method"] = "connect", ["params"] = Connects.Backend(token: token) }.ToJsonString();

    /// <summary>A gateway, and a socket past the opening handshake that has read the connect.challenge.</summary>
    private static async Task<(TestGateway Gateway, WireClient Client)> OpenAsync()
    {
        var gateway = await TestGateway.StartAsync();
        try
        {
            var client = await UpgradeAsync(gateway);
            var challenge = await client.ReceiveJsonAsync();
            Assert.Equal("connect.challenge", (string?)challenge["event"]);
            return (gateway, client);
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private static void AssertHelloOk(JsonObject response)
    {
        Assert.True((bool?)response["ok"], response.ToJsonString());
        Assert.Equal("hello-ok", (string?)response["payload"]!["type"]);
    }

    [Fact]
    public async Task Should_accept_masked_frames_and_answer_in_unmasked_text_frames()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendTextAsync(Connect());
        AssertHelloOk(await client.ReceiveResponseAsync("c1"));
        await client.SendTextAsync("""{"type":"req","id":"h1","method":"health"}""");

        Assert.True((bool?)(await client.ReceiveResponseAsync("h1"))["ok"]);
    }

    [Fact]
    public async Task Should_fail_an_unmasked_client_frame_with_1002()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Text, Encoding.UTF8.GetBytes(Connect()), masked: false));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Theory]
    [InlineData(0b100)]
    [InlineData(0b010)]
    [InlineData(0b001)]
    public async Task Should_fail_a_frame_with_a_reserved_bit_set_with_1002(int reserved)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Text, Encoding.UTF8.GetBytes(Connect()), reserved: reserved));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Theory]
    [InlineData(0x3)]
    [InlineData(0x7)]
    [InlineData(0xB)]
    [InlineData(0xF)]
    public async Task Should_fail_an_unknown_opcode_with_1002(int opcode)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame((Opcode)opcode, "{}"u8));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Fact]
    public async Task Should_assemble_a_message_sent_in_fragments_each_in_its_own_write()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var connect = Connect();
        var (first, second, third) = (connect[..10], connect[10..200], connect[200..]);

        await client.SendAsync(TextFrame(first, fin: false), TextFrame(second, fin: false, Opcode.Continuation), TextFrame(third, fin: true, Opcode.Continuation));

        AssertHelloOk(await client.ReceiveResponseAsync("c1"));
    }

    [Fact]
    public async Task Should_answer_a_ping_between_fragments_with_its_payload_and_still_assemble_the_message()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var connect = Connect();
        var pingPayload = "between fragments \u00b7 1"u8.ToArray();

        await client.SendAsync(TextFrame(connect[..50], fin: false), Frame(Opcode.Ping, pingPayload), Frame(Opcode.Pong, "unsolicited"u8), TextFrame(connect[50..], fin: true, Opcode.Continuation));

        var pong = await client.ReceiveFrameAsync();
        Assert.Equal(Opcode.Pong, pong.Opcode);
        Assert.False(pong.Masked);
        Assert.True(pong.Fin);
        Assert.Equal(pingPayload, pong.Payload);
        AssertHelloOk(await client.ReceiveJsonAsync());
    }

    [Fact]
    public async Task Should_fail_a_continuation_without_a_message_with_1002()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(TextFrame(Connect(), fin: true, Opcode.Continuation));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Theory]
    [InlineData((int)Opcode.Text)]
    [InlineData((int)Opcode.Binary)]
    public async Task Should_fail_a_new_data_frame_inside_a_fragmented_message_with_1002(int interloper)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var connect = Connect();

        await client.SendAsync(TextFrame(connect[..20], fin: false), TextFrame(connect, fin: true, (Opcode)interloper));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Theory]
    [InlineData((int)Opcode.Ping, 126, true)]
    [InlineData((int)Opcode.Pong, 126, true)]
    [InlineData((int)Opcode.Close, 126, true)]
    [InlineData((int)Opcode.Ping, 4, false)]
    [InlineData((int)Opcode.Close, 2, false)]
    public async Task Should_fail_an_oversized_or_fragmented_control_frame_with_1002(int opcode, int length, bool fin)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var payload = Enumerable.Repeat((byte)'x', length).ToArray();
        if ((Opcode)opcode == Opcode.Close)
            ClosePayload(1000).CopyTo(payload, 0);

        await client.SendAsync(Frame((Opcode)opcode, payload, fin));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Fact]
    public async Task Should_accept_a_control_frame_of_exactly_125_bytes()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var payload = Enumerable.Range(0, 125).Select(i => (byte)i).ToArray();

        await client.SendAsync(Frame(Opcode.Ping, payload));

        var pong = await client.ReceiveFrameAsync();
        Assert.Equal(Opcode.Pong, pong.Opcode);
        Assert.Equal(payload, pong.Payload);
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0xAF })] // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a UTF-16 surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // past U+10FFFF
    [InlineData(new byte[] { 0xE2, 0x82 })] // truncated at the end of the message
    [InlineData(new byte[] { 0xFF })]
    public async Task Should_fail_invalid_utf8_text_with_1007(byte[] invalid)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Text, [.. "{\"type\":\""u8, .. invalid]));

        await client.ExpectClosedAsync(InvalidPayloadData);
    }

    /// <summary>UTF-8 is a property of the message, not of its frames: a character split across two fragments is valid.</summary>
    [Fact]
    public async Task Should_accept_a_character_split_across_fragments()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var parameters = Connects.Backend();
        parameters["client"]!["displayName"] = "caf\u00e9 \ud83d\ude00";
        var bytes = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "req", ["id"] = "c1", ["method"] = "connect", ["params"] = parameters }.ToJsonString());
        var split = bytes.AsSpan().IndexOf("\ud83d\ude00"u8) + 2;

        await client.SendAsync(Frame(Opcode.Text, bytes.AsSpan(0, split), fin: false), Frame(Opcode.Continuation, bytes.AsSpan(split)));

        AssertHelloOk(await client.ReceiveResponseAsync("c1"));
    }

    [Fact]
    public async Task Should_accept_a_message_of_exactly_the_preauth_limit()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var connect = Connect();
        // JSON allows any amount of whitespace after the value: the message is padded to the limit exactly.
        var padded = connect + new string(' ', PreauthMaxPayload - connect.Length);

        await client.SendAsync(TextFrame(padded[..1000], fin: false), TextFrame(padded[1000..], fin: true, Opcode.Continuation));

        AssertHelloOk(await client.ReceiveResponseAsync("c1"));
    }

    [Fact]
    public async Task Should_fail_a_message_over_the_preauth_limit_with_1009()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var connect = Connect();
        var padded = connect + new string(' ', PreauthMaxPayload + 1 - connect.Length);

        await client.SendAsync(TextFrame(padded));

        await client.ExpectClosedAsync(MessageTooBig);
    }

    /// <summary>The fragments are each under the limit; their sum is not.</summary>
    [Fact]
    public async Task Should_fail_fragments_that_add_up_to_more_than_the_preauth_limit_with_1009()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var half = new string(' ', PreauthMaxPayload / 2);

        await client.SendAsync(TextFrame("{" + half, fin: false), TextFrame(half, fin: false, Opcode.Continuation));

        await client.ExpectClosedAsync(MessageTooBig);
    }

    /// <summary>The length in the header is enough: the gateway does not wait for (or buffer) a payload it will refuse.</summary>
    [Theory]
    [InlineData(PreauthMaxPayload + 1)]
    [InlineData(long.MaxValue)]
    public async Task Should_fail_with_1009_as_soon_as_the_header_announces_too_much(long announced)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;
        var header = new byte[14];
        header[0] = 0x81;
        header[1] = 0x80 | 127;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(2), announced);

        await client.SendAsync(header);

        await client.ExpectClosedAsync(MessageTooBig);
    }

    [Fact]
    public async Task Should_echo_a_client_close_and_end_the_tcp_connection()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Close, ClosePayload(1000, "bye")));

        var echo = await client.ReceiveCloseAsync(1000);
        Assert.Equal(ClosePayload(1000), echo.Payload);
        // The client has not shut its side: the server must close the TCP connection first (§7.1.1).
        await client.ExpectEndAsync();
    }

    [Theory]
    [InlineData(3000)]
    [InlineData(4999)]
    [InlineData(1001)]
    public async Task Should_echo_the_code_of_a_valid_client_close(int code)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Close, ClosePayload(code)));

        await client.ReceiveCloseAsync(code);
        await client.ExpectEndAsync();
    }

    [Fact]
    public async Task Should_answer_an_empty_client_close_with_1000()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Close, []));

        await client.ReceiveCloseAsync(1000);
        await client.ExpectEndAsync();
    }

    [Theory]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1004)]
    [InlineData(999)]
    [InlineData(0)]
    [InlineData(2999)]
    [InlineData(5000)]
    public async Task Should_fail_a_close_with_a_code_a_peer_may_not_send_with_1002(int code)
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Close, ClosePayload(code)));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Fact]
    public async Task Should_fail_a_close_with_a_one_byte_payload_with_1002()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Close, [0x03]));

        await client.ExpectClosedAsync(ProtocolError);
    }

    [Fact]
    public async Task Should_fail_a_close_whose_reason_is_not_utf8_with_1007()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendAsync(Frame(Opcode.Close, [.. ClosePayload(1000), 0xC3, 0x28]));

        await client.ExpectClosedAsync(InvalidPayloadData);
    }

    [Fact]
    public async Task Should_send_the_error_then_close_1008_after_a_wrong_token()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendTextAsync(Connect(token: "wrong"));

        var response = await client.ReceiveResponseAsync("c1");
        Assert.Equal("AUTH_TOKEN_MISMATCH", (string?)response["error"]!["details"]!["code"]);
        await client.ExpectClosedAsync(1008);
    }

    /// <summary>
    /// The close race: the client closes as soon as it reads the error, before the gateway's close
    /// has reached it. The gateway's close was queued first, so it is the one the client gets; the
    /// client's close does not replace it with an echo of 1000.
    /// </summary>
    [Fact]
    public async Task Should_keep_its_queued_close_1008_when_the_client_closes_at_the_same_moment()
    {
        var (gateway, client) = await OpenAsync();
        await using var _ = gateway;
        await using var __ = client;

        await client.SendTextAsync(Connect(token: "wrong"));
        var response = await client.ReceiveResponseAsync("c1");
        await client.SendAsync(Frame(Opcode.Close, ClosePayload(1000)));

        Assert.Equal("AUTH_TOKEN_MISMATCH", (string?)response["error"]!["details"]!["code"]);
        await client.ReceiveCloseAsync(1008);
        await client.ExpectEndAsync();
    }
}
