using System.Buffers;
using System.Text;
using Presence.Gateway.Transport;
using Xunit;
using Status = Presence.Gateway.Transport.WebSocketHandshake.Status;

namespace Presence.Gateway.Tests.Transport;

/// <summary>Reading the opening handshake from a connection's first bytes (<see cref="WebSocketHandshake.TryRead"/>).</summary>
public sealed class WebSocketHandshakeSpecs
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Upgrade(string target = "/", string extra = "") =>
        $"GET {target} HTTP/1.1\r\nHost: gw.example:18789\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n";

    private static Status Read(string text, out SequencePosition end, out UpgradeRequest? request, out WebSocketHandshake.Refusal? refusal) =>
        WebSocketHandshake.TryRead(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), out end, out request, out refusal);

    private static Status Read(string text) => Read(text, out _, out _, out _);

    [Fact]
    public void Should_read_an_upgrade_and_end_right_after_its_head()
    {
        var head = Upgrade(extra: "Origin: https://ui.example\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nForwarded: for=10.0.0.3\r\nX-Forwarded-Proto: https\r\n");
        var bytes = Encoding.ASCII.GetBytes(head + "\x81\x80");
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(Status.Upgrade, WebSocketHandshake.TryRead(buffer, out var end, out var request, out var refusal));

        Assert.Null(refusal);
        Assert.Equal(new UpgradeRequest(Key, "https://ui.example", "gw.example:18789", "10.0.0.1, 10.0.0.2", "for=10.0.0.3", "https", Proxied: true), request);
        Assert.Equal(head.Length, buffer.Slice(buffer.Start, end).Length);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("Origin: http://localhost:5173\r\n", false)]
    [InlineData("X-Real-IP: 203.0.113.7\r\n", true)]
    [InlineData("x-forwarded-proto: https\r\n", true)]
    public void Should_note_whether_a_proxy_header_came_with_the_upgrade(string extra, bool proxied)
    {
        Assert.Equal(Status.Upgrade, Read(Upgrade(extra: extra), out _, out var request, out _));

        Assert.Equal(proxied, request!.Proxied);
    }

    /// <summary>Every prefix of an upgrade waits for more, in one segment or in many; the whole head reads the same however it is cut.</summary>
    [Fact]
    public void Should_need_more_data_at_every_cut_of_an_upgrade_head()
    {
        var bytes = Encoding.ASCII.GetBytes(Upgrade());
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Equal(Status.NeedMoreData, WebSocketHandshake.TryRead(new ReadOnlySequence<byte>(bytes[..cut]), out _, out _, out _));
            var split = Segments.Split(bytes, cut, cut + 1, cut + 7);
            Assert.Equal(Status.Upgrade, WebSocketHandshake.TryRead(split, out var end, out var request, out _));
            Assert.Equal(Key, request!.Key);
            Assert.Equal(bytes.Length, split.Slice(split.Start, end).Length);
        }
    }

    [Fact]
    public void Should_match_header_names_whatever_their_case()
    {
        var head = $"GET / HTTP/1.1\r\nHOST: gw:1\r\nupgrade: WebSocket\r\nCONNECTION: UPGRADE\r\nsec-websocket-key: {Key}\r\nSec-Websocket-Version: 13\r\noRiGiN: https://ui.example\r\nx-REAL-ip: 10.0.0.9\r\n\r\n";

        Assert.Equal(Status.Upgrade, Read(head, out _, out var request, out _));

        Assert.Equal(new UpgradeRequest(Key, "https://ui.example", "gw:1", null, null, null, Proxied: true), request);
    }

    [Fact]
    public void Should_take_values_and_list_elements_without_the_spaces_and_tabs_around_them()
    {
        var head = $"GET / HTTP/1.1\r\nHost:gw:1 \t\r\nUpgrade:\t websocket\t\r\nConnection: keep-alive ,\tUpgrade \r\nSec-WebSocket-Key: \t{Key}\t\r\nSec-WebSocket-Version:13  \r\nOrigin:\r\n\r\n";

        Assert.Equal(Status.Upgrade, Read(head, out _, out var request, out _));

        // An Origin header without a value is an empty origin, not a missing one.
        Assert.Equal(new UpgradeRequest(Key, "", "gw:1", null, null, null), request);
    }

    /// <summary>A folded line (obsolete line folding) or a space before the colon is a malformed head: the HTTP server refuses it.</summary>
    [Theory]
    [InlineData("Connection: keep-alive,\r\n Upgrade\r\n")]
    [InlineData("X-Note: first\r\n\tsecond: line\r\n")]
    [InlineData("Origin : https://ui.example\r\n")]
    [InlineData("X Note: a\r\n")]
    [InlineData(": no name\r\n")]
    public void Should_hand_a_folded_or_malformed_header_line_to_the_http_server(string extra)
    {
        Assert.Equal(Status.NotWebSocket, Read(Upgrade(extra: extra)));
    }

    [Fact]
    public void Should_take_the_last_of_a_repeated_header_and_join_repeated_proxy_headers()
    {
        var head = Upgrade(extra: "Origin: https://a.example\r\nOrigin: https://b.example\r\nForwarded: for=10.0.0.1\r\nforwarded: for=10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n");

        Assert.Equal(Status.Upgrade, Read(head, out _, out var request, out _));

        Assert.Equal(new UpgradeRequest(Key, "https://b.example", "gw.example:18789", null, "for=10.0.0.1, for=10.0.0.2", "https, http", Proxied: true), request);
    }

    /// <summary>Which of two hosts or keys a proxy in between would have read is anyone's guess: refused, as RFC 9112 and 6455 say.</summary>
    [Theory]
    [InlineData("Host: second.example\r\n", "more than one Host header")]
    [InlineData("host: gw.example:18789\r\n", "more than one Host header")]
    [InlineData("Sec-WebSocket-Key: " + Key + "\r\n", "more than one Sec-WebSocket-Key header")]
    public void Should_refuse_a_second_host_or_key(string extra, string message)
    {
        Assert.Equal(Status.Refused, Read(Upgrade(extra: extra), out _, out var request, out var refusal));

        Assert.Null(request);
        Assert.Equal((400, message), (refusal!.StatusCode, refusal.Message));
    }

    /// <summary>A head that arrives in many reads is read exactly as when it arrives whole.</summary>
    [Fact]
    public void Should_read_a_head_cut_into_single_bytes_as_the_whole_head()
    {
        var bytes = Encoding.ASCII.GetBytes(Upgrade(extra: "Origin: https://ui.example\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n") + "\x81");
        var bytewise = Segments.Bytewise(bytes);

        Assert.Equal(Status.Upgrade, WebSocketHandshake.TryRead(new ReadOnlySequence<byte>(bytes), out _, out var whole, out _));
        Assert.Equal(Status.Upgrade, WebSocketHandshake.TryRead(bytewise, out var end, out var cut, out _));

        Assert.Equal(whole, cut);
        Assert.Equal(bytes.Length - 1, bytewise.Slice(bytewise.Start, end).Length);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\n")]
    [InlineData("GEX")]
    [InlineData("PUT")]
    [InlineData("\x16\x03\x01")]
    public void Should_hand_anything_but_get_root_to_the_http_server_without_waiting_for_its_head(string start)
    {
        Assert.Equal(Status.NotWebSocket, Read(start));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: gw\r\n\r\n")]
    [InlineData("GET /index.html HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: gw\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nnot a header line\r\nUpgrade: websocket\r\n\r\n")]
    public void Should_hand_a_request_that_is_not_a_websocket_upgrade_on_root_to_the_http_server(string head)
    {
        Assert.Equal(Status.NotWebSocket, Read(head));
    }

    [Fact]
    public void Should_upgrade_on_root_with_a_query()
    {
        Assert.Equal(Status.Upgrade, Read(Upgrade("/?token=x")));
    }

    [Fact]
    public void Should_hand_a_head_over_the_bound_to_the_http_server()
    {
        var padding = $"X-Padding: {new string('a', WebSocketHandshake.MaxHeadBytes)}\r\n";

        Assert.Equal(Status.NotWebSocket, Read(Upgrade(extra: padding)));
        Assert.Equal(Status.NotWebSocket, Read(Upgrade(extra: padding)[..(WebSocketHandshake.MaxHeadBytes + 4)]));
    }

    /// <summary>A head just under the bound is read even when the first read ends inside its final blank line.</summary>
    [Fact]
    public void Should_wait_for_a_head_at_the_bound_whose_end_has_not_fully_arrived()
    {
        var head = Upgrade();
        var padding = WebSocketHandshake.MaxHeadBytes - (head.Length - 4) - "X-Padding: \r\n".Length;
        var bounded = Upgrade(extra: $"X-Padding: {new string('a', padding)}\r\n");
        Assert.Equal(WebSocketHandshake.MaxHeadBytes, bounded.Length - 4);

        Assert.Equal(Status.Upgrade, Read(bounded));
        for (var missing = 1; missing < 4; missing++)
            Assert.Equal(Status.NeedMoreData, Read(bounded[..^missing]));
    }

    [Theory]
    [InlineData("Connection: keep-alive", 400, "Connection header must contain Upgrade")]
    [InlineData("Sec-WebSocket-Version: 8", 426, "unsupported Sec-WebSocket-Version")]
    [InlineData("Sec-WebSocket-Key: abc", 400, "Sec-WebSocket-Key must be 16 bytes in base64")]
    [InlineData("Host: ", 400, "Host header is required")]
    public void Should_refuse_an_upgrade_that_breaks_a_rule(string replacement, int status, string message)
    {
        var name = replacement[..replacement.IndexOf(':', StringComparison.Ordinal)];
        var lines = Upgrade().Split("\r\n").Select(line => line.StartsWith(name + ":", StringComparison.Ordinal) ? replacement : line);

        Assert.Equal(Status.Refused, Read(string.Join("\r\n", lines), out _, out var request, out var refusal));

        Assert.Null(request);
        Assert.Equal(status, refusal!.StatusCode);
        Assert.Equal(message, refusal.Message);
        var answer = Encoding.ASCII.GetString(WebSocketHandshake.Refuse(refusal));
        Assert.StartsWith($"HTTP/1.1 {status} ", answer, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", answer, StringComparison.Ordinal);
        Assert.Equal(status == 426, answer.Contains("Sec-WebSocket-Version: 13\r\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_answer_101_with_the_accept_key_and_no_extension()
    {
        var answer = Encoding.ASCII.GetString(WebSocketHandshake.Accept(Key));

        Assert.Equal("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", answer);
    }
}
