using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// The challenge and the hello-ok (captures 01-*, gateway-protocol.md §2.1 and §4.3): every field the
/// published schema requires, with the types the Swift client's strict decoder needs.
/// </summary>
public sealed class HelloOkSpecs
{
    [Fact]
    public async Task Should_open_with_a_challenge_carrying_a_nonce_and_integer_ts()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var first = await gateway.ConnectAsync();
        await using var second = await gateway.ConnectAsync();

        var challenge = await first.ReceiveChallengeAsync();
        var other = await second.ReceiveChallengeAsync();

        Assert.Null(challenge["seq"]);
        var nonce = (string?)challenge["payload"]!["nonce"];
        Assert.False(string.IsNullOrEmpty(nonce));
        Assert.True(Guid.TryParse(nonce, out _), nonce);
        Assert.NotEqual(nonce, (string?)other["payload"]!["nonce"]);
        var ts = challenge["payload"]!["ts"]!.GetValue<long>();
        Assert.InRange(ts, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Should_answer_connect_with_a_schema_complete_hello_ok()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();

        var response = await client.SendConnectAsync(Connects.Backend());

        Assert.Equal("res", (string?)response["type"]);
        Assert.True(response["ok"]!.GetValue<bool>());
        var hello = Assert.IsType<JsonObject>(response["payload"]);
        Assert.Equal("hello-ok", (string?)hello["type"]);
        Assert.Equal(4, hello["protocol"]!.GetValue<int>());

        var server = Assert.IsType<JsonObject>(hello["server"]);
        Assert.False(string.IsNullOrEmpty((string?)server["version"]));
        Assert.True(Guid.TryParse((string?)server["connId"], out _), server.ToJsonString());

        var features = Assert.IsType<JsonObject>(hello["features"]);
        var methods = Assert.IsType<JsonArray>(features["methods"]).Select(m => (string)m!).ToList();
        Assert.Subset(new HashSet<string>(methods), new HashSet<string> { "health", "status", "system-presence", "system-event", "config.get" });
        // connect itself is not listed.
        Assert.DoesNotContain("connect", methods);
        var events = Assert.IsType<JsonArray>(features["events"]).Select(m => (string)m!).ToHashSet();
        Assert.Subset(events, new HashSet<string> { "connect.challenge", "presence", "tick", "shutdown" });

        var snapshot = Assert.IsType<JsonObject>(hello["snapshot"]);
        var presence = Assert.IsType<JsonArray>(snapshot["presence"]);
        AssertSelfFirst(presence);
        Assert.All(Rows(presence), row => Assert.True(row["ts"]!.GetValue<long>() > 0));
        Assert.NotNull(snapshot["health"]);
        var stateVersion = Assert.IsType<JsonObject>(snapshot["stateVersion"]);
        Assert.True(stateVersion["presence"]!.GetValue<long>() >= 0);
        Assert.True(stateVersion["health"]!.GetValue<long>() >= 0);
        Assert.True(snapshot["uptimeMs"]!.GetValue<long>() >= 0);

        var auth = Assert.IsType<JsonObject>(hello["auth"]);
        Assert.Equal("operator", (string?)auth["role"]);
        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.admin"), auth["scopes"]));

        var policy = Assert.IsType<JsonObject>(hello["policy"]);
        Assert.Equal(26_214_400, policy["maxPayload"]!.GetValue<long>());
        Assert.Equal(52_428_800, policy["maxBufferedBytes"]!.GetValue<long>());
        Assert.Equal(30_000, policy["tickIntervalMs"]!.GetValue<long>());
    }

    /// <summary>The self row (§6.3): mode gateway, reason self, and the text the CLI probe recognises.</summary>
    [Fact]
    public async Task Should_list_the_self_row_first_with_its_gateway_text()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        var list = await client.SystemPresenceAsync();

        var self = Assert.IsType<JsonObject>(list[0]);
        AssertRow(new JsonObject
        {
            ["instanceId"] = TestGateway.SelfInstanceId,
            ["host"] = TestGateway.SelfHost,
            ["ip"] = TestGateway.SelfIp,
            ["version"] = "0.1.0",
            ["platform"] = "linux conformance",
            ["deviceFamily"] = "Linux",
            ["mode"] = "gateway",
            ["reason"] = "self",
            ["text"] = $"Gateway: {TestGateway.SelfHost} ({TestGateway.SelfIp}) · app 0.1.0 · mode gateway · reason self",
        }, self);
    }

    /// <summary>
    /// A tracked connect writes its row before hello-ok, so the snapshot already lists it, and the
    /// client's own presence event follows. OpenClaw bumps stateVersion only at that broadcast (the
    /// event is one higher than the snapshot); this gateway versions the list itself, so the event may
    /// carry the snapshot's version. Clients only need it monotonic (§7.3). Deviation by design.
    /// </summary>
    [Fact]
    public async Task Should_send_the_connect_presence_event_with_a_version_not_below_the_hello_snapshot()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();

        var hello = await client.HandshakeAsync(Connects.UiNoDevice("version-check"));
        var first = await client.ReceivePresenceAsync();

        Assert.True(HasInstance(Assert.IsType<JsonArray>(hello["snapshot"]!["presence"]), "version-check"));
        Assert.True(HasInstance(PresenceList(first), "version-check"));
        Assert.True(first["stateVersion"]!["presence"]!.GetValue<long>() >= hello["snapshot"]!["stateVersion"]!["presence"]!.GetValue<long>());
        Assert.True(first["stateVersion"]!["health"] is not null);
    }

    /// <summary>After hello-ok the frame cap is policy.maxPayload, no longer the 64 KiB pre-auth cap.</summary>
    [Fact]
    public async Task Should_accept_frames_over_64_KiB_after_hello()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();
        // sessionKey has no length cap and is not stored, so it makes a large frame without a large row.
        var sessionKey = new string('x', 100_000);

        await client.BeaconAsync(new JsonObject { ["text"] = "a large frame", ["instanceId"] = "big-beacon", ["sessionKey"] = sessionKey });

        Assert.Equal("a large frame", (string?)RowByInstance(await client.SystemPresenceAsync(), "big-beacon")!["text"]);
    }
}
