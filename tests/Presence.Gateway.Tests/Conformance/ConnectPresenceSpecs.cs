using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// captures/02-01 … 02-06: which connects produce rows and presence events. The watcher is the
/// captures' gateway-client/backend admin connection (02-00). Where presence-rules.md differs from
/// the capture, the rules win: rows are keyed by client.instanceId (node: device.id), only "cli" is
/// untracked, requested scopes are granted, a node row's reason is "node-connected", and rows carry
/// only the product's entry fields (no clientId, timeZone, user, onlineSince).
/// </summary>
public sealed class ConnectPresenceSpecs
{
    [Fact]
    public async Task Should_track_a_ui_connection_without_device()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var ui = await gateway.ConnectAsync();

        var hello = await ui.HandshakeAsync(Connects.UiNoDevice());

        // OpenClaw clears a device-less UI's scopes to []; this gateway grants what was asked (§3.3 recommendation).
        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.read"), hello["auth"]!["scopes"]), hello["auth"]!.ToJsonString());
        var expected = new JsonObject
        {
            ["instanceId"] = "Probe-UI-Instance-1",
            ["host"] = "Probe-UI-Host",
            ["version"] = "1.2.3",
            ["platform"] = "macos 15.1",
            ["deviceFamily"] = "Mac",
            ["modelIdentifier"] = "Mac15,3",
            ["mode"] = "ui",
            ["reason"] = "connect",
            ["roles"] = new JsonArray("operator"),
            ["scopes"] = new JsonArray("operator.read"),
            ["text"] = "Node: Probe-UI-Host · mode ui",
        };
        // Written before hello-ok, so the client's own snapshot already has it.
        AssertRow(expected, RowByInstance(Assert.IsType<JsonArray>(hello["snapshot"]!["presence"]), "Probe-UI-Instance-1"));
        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "Probe-UI-Instance-1"));
        AssertRow(expected, RowByInstance(PresenceList(announced), "Probe-UI-Instance-1"));
        // A tracked reader hears of its own connect as its first numbered event.
        var own = await ui.ReceiveUntilAsync(f => f["seq"] is not null, what: "first numbered event");
        Assert.True(IsEvent(own, "presence"), own.ToJsonString());
        Assert.Equal(1, own["seq"]!.GetValue<long>());
    }

    /// <summary>
    /// U2 of the capture uses U1's instanceId in another case. OpenClaw makes a second row (per
    /// connection); presence-rules.md keys connect rows by instanceId, case-insensitively, so U2
    /// updates U1's row. Deviation by design.
    /// </summary>
    [Fact]
    public async Task Should_merge_a_ui_connection_with_device_into_the_row_of_its_instance_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var u1 = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await watcher.ReceivePresenceAsync(list => HasInstance(list, "Probe-UI-Instance-1"));
        await using var u2 = await gateway.ConnectAsync();

        var response = await u2.SendConnectAsync(Connects.UiWithDevice());

        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        // The server sends hello-ok first and this client's own presence update right after it.
        var first = await u2.ReceiveUntilAsync(f => f["seq"] is not null, what: "first numbered event");
        Assert.True(IsEvent(first, "presence"), first.ToJsonString());
        Assert.Equal(1, first["seq"]!.GetValue<long>());
        var announced = await watcher.ReceivePresenceAsync(list => RowByInstance(list, "PROBE-UI-INSTANCE-1")?["deviceId"] is not null);
        AssertRow(new JsonObject
        {
            ["instanceId"] = "PROBE-UI-INSTANCE-1",
            ["host"] = "Probe-Mac-2",
            ["version"] = "2.0.0",
            ["platform"] = "macos 15.1",
            ["deviceFamily"] = "Mac",
            ["modelIdentifier"] = "Mac15,3",
            ["mode"] = "ui",
            ["reason"] = "connect",
            ["deviceId"] = Connects.MacDeviceId,
            ["roles"] = new JsonArray("operator"),
            ["scopes"] = new JsonArray("operator.read"),
            // The row's text is kept from its first write (OpenClaw's upsert does the same: patch.text || existing.text).
            ["text"] = "Node: Probe-UI-Host · mode ui",
        }, SingleRowByInstance(PresenceList(announced), "probe-ui-instance-1"));
    }

    [Fact]
    public async Task Should_keep_one_row_for_a_client_that_reconnects_with_its_instance_id_in_another_case()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        var first = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("Probe-UI-Instance-1"));
        await first.CloseAsync();
        await first.DisposeAsync();
        await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, "Probe-UI-Instance-1")?["reason"] == "disconnect");

        await using var again = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("probe-ui-INSTANCE-1"));

        var list = PresenceList(await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, "Probe-UI-Instance-1")?["reason"] == "connect"));
        Assert.Equal("probe-ui-INSTANCE-1", (string?)SingleRowByInstance(list, "Probe-UI-Instance-1")["instanceId"]);
    }

    [Fact]
    public async Task Should_not_track_a_cli_connection()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await watcher.ReceivePresenceAsync();
        await using var cli = await gateway.ConnectAsync();

        var hello = await cli.HandshakeAsync(Connects.Params("cli", "cli", ["operator.read"], instanceId: "probe-cli-instance"));

        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.read"), hello["auth"]!["scopes"]));
        Assert.False(HasInstance(Assert.IsType<JsonArray>(hello["snapshot"]!["presence"]), "probe-cli-instance"));
        // A later change is the next thing the watcher hears about: the cli connect announced nothing.
        await watcher.BeaconAsync(new JsonObject { ["text"] = "marker", ["instanceId"] = "marker" });
        var next = await watcher.ReceivePresenceAsync();
        Assert.True(HasInstance(PresenceList(next), "marker"), next.ToJsonString());
        Assert.False(HasInstance(PresenceList(next), "probe-cli-instance"));
    }

    [Fact]
    public async Task Should_track_a_test_mode_connection_without_scopes()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var test = await gateway.ConnectAsync();

        var hello = await test.HandshakeAsync(Connects.Params("test", "test", [], instanceId: "probe-test-instance"));

        Assert.True(JsonNode.DeepEquals(new JsonArray(), hello["auth"]!["scopes"]));
        // Without operator.read the snapshot is empty.
        Assert.Empty(Assert.IsType<JsonArray>(hello["snapshot"]!["presence"]));
        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "probe-test-instance"));
        AssertRow(new JsonObject
        {
            ["instanceId"] = "probe-test-instance",
            ["host"] = "test",
            ["version"] = "probe-1.0.0",
            ["platform"] = "linux",
            ["mode"] = "test",
            ["reason"] = "connect",
            ["roles"] = new JsonArray("operator"),
            ["text"] = "Node: test · mode test",
        }, RowByInstance(PresenceList(announced), "probe-test-instance"));
        // It was announced to the watcher; the scope-less client itself got no presence event.
        var health = await test.CallAsync("health");
        Assert.DoesNotContain(test.History.TakeWhile(f => f != health), f => IsEvent(f, "presence"));
    }

    [Fact]
    public async Task Should_reject_webchat_without_an_origin_and_track_nothing()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await watcher.ReceivePresenceAsync();
        await using var webchat = await gateway.ConnectAsync();

        var response = await webchat.SendConnectAsync(Connects.Params("webchat", "webchat", [], instanceId: "probe-webchat-instance"));

        const string message = "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)";
        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", message,
            new JsonObject { ["code"] = "CONTROL_UI_ORIGIN_NOT_ALLOWED", ["reason"] = "origin missing or invalid" });
        AssertClose(await webchat.WaitForCloseAsync(), 1008, message);
        Assert.False(HasInstance(await watcher.SystemPresenceAsync(), "probe-webchat-instance"));
    }

    /// <summary>Not captured (the probe had no browser): from the gateway's own origin, webchat is admitted and tracked (§6.4).</summary>
    [Fact]
    public async Task Should_track_webchat_from_the_gateway_origin()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var webchat = await gateway.ConnectAsync(origin: gateway.OwnOrigin);

        await webchat.HandshakeAsync(Connects.Params("webchat", "webchat", ["operator.read"], instanceId: "probe-webchat-instance"));

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "probe-webchat-instance"));
        Assert.Equal("webchat", (string?)RowByInstance(PresenceList(announced), "probe-webchat-instance")!["mode"]);
    }

    [Fact]
    public async Task Should_reject_a_browser_client_from_a_foreign_origin()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var webchat = await gateway.ConnectAsync(origin: "https://evil.example");

        var response = await webchat.SendConnectAsync(Connects.Params("webchat", "webchat", ["operator.read"]));

        Assert.Equal("CONTROL_UI_ORIGIN_NOT_ALLOWED", (string?)response["error"]!["details"]!["code"]);
        Assert.Equal(1008, (await webchat.WaitForCloseAsync()).Code);
    }

    [Fact]
    public async Task Should_key_a_node_row_by_device_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var node = await gateway.ConnectAsync();

        var hello = await node.HandshakeAsync(Connects.Node());

        Assert.Equal("node", (string?)hello["auth"]!["role"]);
        Assert.Empty(Assert.IsType<JsonArray>(hello["snapshot"]!["presence"]));
        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, Connects.NodeDeviceId));
        AssertRow(new JsonObject
        {
            // client.instanceId is replaced by the device id.
            ["instanceId"] = Connects.NodeDeviceId,
            ["host"] = "probe-node-1",
            ["version"] = "2026.9.6",
            ["platform"] = "linux",
            ["deviceFamily"] = "Linux",
            ["mode"] = "node",
            // presence-rules.md: "node-connected" for role node (OpenClaw writes "connect").
            ["reason"] = "node-connected",
            ["deviceId"] = Connects.NodeDeviceId,
            ["roles"] = new JsonArray("node"),
            ["text"] = "Node: probe-node-1 · mode node",
        }, RowByInstance(PresenceList(announced), Connects.NodeDeviceId));
        Assert.False(HasInstance(PresenceList(announced), "probe-node-instance"));
    }
}
