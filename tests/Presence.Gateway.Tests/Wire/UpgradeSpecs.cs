using System.Text;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Transport;
using Xunit;
using static Presence.Gateway.Tests.Wire.WireClient;

namespace Presence.Gateway.Tests.Wire;

/// <summary>
/// The opening handshake, answered by the gateway's connection middleware from the raw bytes: the
/// header checks of RFC 6455 §4.2.1 and their HTTP answers, the 101 itself, and that every request
/// that is not an upgrade still reaches Kestrel's HTTP server intact, however its head is split.
/// </summary>
public sealed class UpgradeSpecs
{
    /// <summary>A request head with the given header lines; a missing line is left out.</summary>
    private static string Head(TestGateway gateway, params string?[] headers) =>
        "GET / HTTP/1.1\r\n" + $"Host: {gateway.Url.Authority}\r\n" + string.Concat(headers.Where(h => h is not null).Select(h => h + "\r\n")) + "\r\n";

    private static async Task<HttpAnswer> RefusedAsync(TestGateway gateway, string head, int status)
    {
        await using var client = await OpenAsync(gateway);
        var answer = await client.RequestAsync(head);
        Assert.True(answer.Status == status, $"expected {status}, got {answer.Status} {answer.Body}");
        Assert.Null(answer.Header("sec-websocket-accept"));
        await client.ExpectEndAsync();
        return answer;
    }

    [Fact]
    public async Task Should_answer_101_with_the_accept_key_of_rfc_6455()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);

        // The example of RFC 6455 §1.3.
        var answer = await client.RequestAsync(UpgradeHead(gateway, "dGhlIHNhbXBsZSBub25jZQ=="));

        Assert.Equal(101, answer.Status);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", answer.Header("sec-websocket-accept"));
        Assert.Equal("websocket", answer.Header("upgrade"), ignoreCase: true);
        Assert.Equal("Upgrade", answer.Header("connection"), ignoreCase: true);
        Assert.Equal("connect.challenge", (string?)(await client.ReceiveJsonAsync())["event"]);
    }

    [Fact]
    public async Task Should_decline_permessage_deflate_by_naming_no_extension()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);

        var answer = await client.RequestAsync(UpgradeHead(gateway, NewKey(), "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));

        Assert.Equal(101, answer.Status);
        Assert.Null(answer.Header("sec-websocket-extensions"));
        // No extension was agreed, so the server's frames have no RSV1 (compressed) bit.
        var challenge = await client.ReceiveFrameAsync();
        AssertServerText(challenge);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Sec-WebSocket-Key: ")]
    [InlineData("Sec-WebSocket-Key: not base64 at all!!!!!!!")]
    [InlineData("Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O")] // 15 bytes
    [InlineData("Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA=")] // 17 bytes
    public async Task Should_refuse_a_missing_or_invalid_key_with_400(string? keyHeader)
    {
        await using var gateway = await TestGateway.StartAsync();

        await RefusedAsync(gateway, Head(gateway, "Upgrade: websocket", "Connection: Upgrade", keyHeader, "Sec-WebSocket-Version: 13"), 400);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Version: 8")]
    [InlineData("Sec-WebSocket-Version: 14")]
    [InlineData(null)]
    public async Task Should_refuse_another_version_with_426_naming_version_13(string? versionHeader)
    {
        await using var gateway = await TestGateway.StartAsync();

        var answer = await RefusedAsync(gateway, Head(gateway, "Upgrade: websocket", "Connection: Upgrade", $"Sec-WebSocket-Key: {NewKey()}", versionHeader), 426);

        Assert.Equal("13", answer.Header("sec-websocket-version"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Connection: keep-alive")]
    public async Task Should_refuse_an_upgrade_without_connection_upgrade_with_400(string? connectionHeader)
    {
        await using var gateway = await TestGateway.StartAsync();

        await RefusedAsync(gateway, Head(gateway, "Upgrade: websocket", connectionHeader, $"Sec-WebSocket-Key: {NewKey()}", "Sec-WebSocket-Version: 13"), 400);
    }

    /// <summary>Header names and tokens are case-insensitive, and Connection may list several tokens (as Firefox sends it).</summary>
    [Fact]
    public async Task Should_accept_header_names_and_tokens_in_any_case()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);
        var key = NewKey();

        var answer = await client.RequestAsync(
            $"GET /?x=1 HTTP/1.1\r\nhost: {gateway.Url.Authority}\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\nsec-websocket-key: {key}\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n");

        Assert.Equal(101, answer.Status);
        Assert.Equal(WebSocketHandshake.AcceptKey(key), answer.Header("sec-websocket-accept"));
    }

    [Fact]
    public async Task Should_upgrade_when_the_head_arrives_in_several_writes()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);
        var key = NewKey();
        var head = Encoding.ASCII.GetBytes(UpgradeHead(gateway, key));

        await client.SendAsync(head[..3], head[3..40], head[40..^3], head[^3..]);

        var answer = await client.ReadHttpAnswerAsync();
        Assert.Equal(101, answer.Status);
        Assert.Equal(WebSocketHandshake.AcceptKey(key), answer.Header("sec-websocket-accept"));
    }

    [Fact]
    public async Task Should_still_serve_the_instances_page_on_a_plain_get()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);

        var answer = await client.RequestAsync($"GET / HTTP/1.1\r\nHost: {gateway.Url.Authority}\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, answer.Status);
        Assert.StartsWith("text/html", answer.Header("content-type"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public async Task Should_still_answer_healthz_when_the_head_arrives_in_pieces(int pieces)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);
        var head = Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: {gateway.Url.Authority}\r\nConnection: close\r\n\r\n");
        var size = (head.Length + pieces - 1) / pieces;

        await client.SendAsync(head.Chunk(size).ToArray());

        var answer = await client.ReadHttpAnswerAsync();
        Assert.Equal(200, answer.Status);
        Assert.Equal("Healthy", (string?)JsonNode.Parse(answer.Body)!["status"]);
    }

    /// <summary>A plain GET of the page split right after "GET /" is not mistaken for a pending upgrade.</summary>
    [Fact]
    public async Task Should_still_serve_the_page_when_the_head_is_split_inside_get_root()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await OpenAsync(gateway);
        var head = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {gateway.Url.Authority}\r\nConnection: close\r\n\r\n");

        await client.SendAsync(head[..2], head[2..5], head[5..20], head[20..]);

        var answer = await client.ReadHttpAnswerAsync();
        Assert.Equal(200, answer.Status);
        Assert.StartsWith("text/html", answer.Header("content-type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_carry_the_origin_header_to_the_connect_check()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var foreign = await UpgradeAsync(gateway, origin: "https://evil.example");
        await using var own = await UpgradeAsync(gateway, origin: gateway.OwnOrigin);
        var webchat = new JsonObject { ["type"] = "req", ["id"] = "w1", ["method"] = "connect", ["params"] = Connects.Params("webchat", "webchat", ["operator.read"]) };

        await foreign.SendTextAsync(webchat.ToJsonString());
        await own.SendTextAsync(webchat.ToJsonString());

        var refused = await foreign.ReceiveResponseAsync("w1");
        Assert.Equal("CONTROL_UI_ORIGIN_NOT_ALLOWED", (string?)refused["error"]!["details"]!["code"]);
        await foreign.ExpectClosedAsync(1008);
        var admitted = await own.ReceiveResponseAsync("w1");
        Assert.True((bool?)admitted["ok"], admitted.ToJsonString());
    }
}
