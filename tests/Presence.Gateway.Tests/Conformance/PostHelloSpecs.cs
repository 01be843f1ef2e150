using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// captures/errors/post-hello-*.json: frames sent on an authenticated gateway-client/backend admin
/// connection. The responses must match the capture, and the connection must stay open in every case.
/// </summary>
public sealed class PostHelloSpecs
{
    [Fact]
    public async Task Should_reject_an_event_frame_from_the_client_with_id_invalid()
    {
        await AssertInvalidFrameAsync("""{"type":"event","event":"tick","payload":{"ts":1}}""", "invalid",
            "invalid request frame: must have required property 'id'; at root: unexpected property 'event'; at /type: must be equal to constant");
    }

    [Fact]
    public async Task Should_answer_health_without_params()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        await client.SendTextAsync("""{"type":"req","id":"h-noparams","method":"health"}""");

        var response = await client.ReceiveResponseAsync("h-noparams");
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        var health = Assert.IsType<JsonObject>(response["payload"]);
        // What the CLI reads (gateway-protocol.md §11): ok, ts and durationMs.
        Assert.True(health["ok"]!.GetValue<bool>());
        Assert.True(health["ts"]!.GetValue<long>() > 0);
        Assert.True(health["durationMs"]!.GetValue<long>() >= 0);
    }

    [Fact]
    public async Task Should_ignore_malformed_json_after_hello()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        await client.SendTextAsync("{oops");
        var id = await client.SendRequestAsync("health");

        // No error response comes for the malformed frame: the next response is the health one.
        var next = await client.ReceiveUntilAsync(f => (string?)f["type"] == "res", what: "a response");
        Assert.Equal(id, (string?)next["id"]);
        Assert.True(next["ok"]!.GetValue<bool>());
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task Should_reject_an_extra_top_level_property()
    {
        await AssertInvalidFrameAsync("""{"type":"req","id":"xp","method":"health","params":{},"extra":1}""", "xp",
            "invalid request frame: at root: unexpected property 'extra'");
    }

    /// <summary>The real gateway echoes the numeric id verbatim (<c>"id":42</c>).</summary>
    [Fact]
    public async Task Should_echo_a_numeric_id_when_rejecting_it()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        await client.SendTextAsync("""{"type":"req","id":42,"method":"health","params":{}}""");

        var response = await client.ReceiveUntilAsync(f => (string?)f["type"] == "res", what: "a response");
        Assert.True(JsonNode.DeepEquals(JsonValue.Create(42), response["id"]), $"expected id 42 (a number), got {response.ToJsonString()}");
        Assert.False(response["ok"]!.GetValue<bool>());
        Assert.Equal("INVALID_REQUEST", (string?)response["error"]!["code"]);
        Assert.Equal("invalid request frame: at /id: must be string", (string?)response["error"]!["message"]);
        await AssertStillUsableAsync(client);
    }

    [Fact]
    public async Task Should_reject_a_request_without_id_with_id_invalid()
    {
        await AssertInvalidFrameAsync("""{"type":"req","method":"health","params":{}}""", "invalid",
            "invalid request frame: must have required property 'id'");
    }

    [Fact]
    public async Task Should_reject_a_request_without_method_echoing_its_id()
    {
        await AssertInvalidFrameAsync("""{"type":"req","id":"m1","params":{}}""", "m1",
            "invalid request frame: must have required property 'method'");
    }

    [Fact]
    public async Task Should_accept_a_traceparent()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        await client.SendTextAsync("""{"type":"req","id":"tp","method":"system-presence","params":{},"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""");

        var response = await client.ReceiveResponseAsync("tp");
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        AssertSelfFirst(Assert.IsType<JsonArray>(response["payload"]));
    }

    [Fact]
    public async Task Should_reject_a_response_frame_from_the_client()
    {
        await AssertInvalidFrameAsync("""{"type":"res","id":"x1","ok":true}""", "x1",
            "invalid request frame: must have required property 'method'; at root: unexpected property 'ok'; at /type: must be equal to constant");
    }

    [Fact]
    public async Task Should_reject_a_second_connect()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        var response = await client.CallAsync("connect", Connects.Backend());

        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", "connect is only valid as the first request");
        await AssertStillUsableAsync(client);
    }

    [Fact]
    public async Task Should_answer_system_presence_without_params()
    {
        await AssertSystemPresenceAsync("""{"type":"req","id":"sp-noparams","method":"system-presence"}""", "sp-noparams");
    }

    [Fact]
    public async Task Should_answer_system_presence_ignoring_junk_params()
    {
        await AssertSystemPresenceAsync("""{"type":"req","id":"sp-junk","method":"system-presence","params":{"foo":1}}""", "sp-junk");
    }

    [Fact]
    public async Task Should_reject_an_unknown_method()
    {
        await AssertInvalidFrameAsync("""{"type":"req","id":"u1","method":"no.such.method","params":{}}""", "u1", "unknown method: no.such.method");
    }

    /// <summary>The rest of the recommended method set (gateway-protocol.md §11) answers with an object.</summary>
    [Theory]
    [InlineData("status")]
    [InlineData("config.get")]
    public async Task Should_answer_the_minimal_probe_methods_with_an_object(string method)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        Assert.IsType<JsonObject>(await client.CallOkAsync(method, new JsonObject()));
    }

    private static async Task AssertInvalidFrameAsync(string frame, string id, string message)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        await client.SendTextAsync(frame);

        AssertError(await client.ReceiveUntilAsync(f => (string?)f["type"] == "res", what: "a response"), id, "INVALID_REQUEST", message);
        await AssertStillUsableAsync(client);
    }

    private static async Task AssertSystemPresenceAsync(string frame, string id)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        await client.SendTextAsync(frame);

        var response = await client.ReceiveResponseAsync(id);
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        AssertSelfFirst(Assert.IsType<JsonArray>(response["payload"]));
        await AssertStillUsableAsync(client);
    }

    /// <summary>The socket stayed open and still answers requests.</summary>
    private static async Task AssertStillUsableAsync(TestClient client)
    {
        Assert.False(client.IsClosed);
        Assert.True((await client.CallOkAsync("health"))!["ok"]!.GetValue<bool>());
    }
}
