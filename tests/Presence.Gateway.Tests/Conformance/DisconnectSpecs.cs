using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// captures/02-15 … 02-17: closing tracked connections keeps their rows, re-stamped with reason
/// "disconnect" ("node-disconnected" for a node, per presence-rules.md), and announces it; closing a
/// cli connection announces nothing; system-presence lists the same rows newest first.
/// </summary>
public sealed class DisconnectSpecs
{
    [Fact]
    public async Task Should_keep_a_closed_ui_row_with_reason_disconnect_and_announce_it()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        var ui = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        var connected = SingleRowByInstance(PresenceList(await watcher.ReceivePresenceAsync(list => HasInstance(list, "Probe-UI-Instance-1"))), "Probe-UI-Instance-1");

        await ui.DisposeAsync();

        var announced = await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, "Probe-UI-Instance-1")?["reason"] == "disconnect");
        var row = SingleRowByInstance(PresenceList(announced), "Probe-UI-Instance-1");
        // Re-stamped: same fields, new reason, ts not older than the connect's.
        var expected = connected.DeepClone().AsObject();
        expected.Remove("ts");
        expected["reason"] = "disconnect";
        AssertRow(expected, row);
        Assert.True(row["ts"]!.GetValue<long>() >= connected["ts"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_announce_nothing_when_a_cli_connection_closes()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await watcher.ReceivePresenceAsync();
        var cli = await gateway.ConnectAndHandshakeAsync(Connects.Params("cli", "cli", ["operator.read"], instanceId: "probe-cli-instance"));

        await cli.DisposeAsync();
        await watcher.BeaconAsync(new JsonObject { ["text"] = "marker", ["instanceId"] = "marker" });

        // The first presence event after the close is the marker's; the cli never had a row.
        var next = await watcher.ReceivePresenceAsync();
        Assert.True(HasInstance(PresenceList(next), "marker"), next.ToJsonString());
        Assert.False(HasInstance(PresenceList(next), "probe-cli-instance"));
    }

    [Fact]
    public async Task Should_keep_a_closed_node_row_with_reason_node_disconnected()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        var node = await gateway.ConnectAndHandshakeAsync(Connects.Node());
        await watcher.ReceivePresenceAsync(list => HasInstance(list, Connects.NodeDeviceId));

        await node.DisposeAsync();

        var announced = await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, Connects.NodeDeviceId)?["reason"] == "node-disconnected");
        var row = SingleRowByInstance(PresenceList(announced), Connects.NodeDeviceId);
        Assert.Equal("probe-node-1", (string?)row["host"]);
        Assert.Equal(Connects.NodeDeviceId, (string?)row["deviceId"]);
    }

    /// <summary>02-16 and 02-17: system-presence after beacons, then after every probe connection closed.</summary>
    [Fact]
    public async Task Should_list_rows_newest_first_after_beacons_and_after_disconnects()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        var ui = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        var test = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "test", [], instanceId: "probe-test-instance"));
        var node = await gateway.ConnectAndHandshakeAsync(Connects.Node());
        await watcher.BeaconAsync(new JsonObject { ["text"] = "Node: nodehost (10.9.8.7) · app 1.2.3 · last input 17s ago · mode ui · reason launch" });
        await watcher.BeaconAsync(new JsonObject { ["text"] = "node device beacon", ["deviceId"] = Connects.NodeDeviceId, ["host"] = "node-beacon-host", ["lastInputSeconds"] = 3 });
        await watcher.BeaconAsync(new JsonObject { ["text"] = "   just some free text event   " });

        var afterBeacons = await watcher.SystemPresenceAsync();

        AssertSelfFirst(afterBeacons);
        AssertNewestFirst(afterBeacons);
        Assert.Equal("connect", (string?)SingleRowByInstance(afterBeacons, "Probe-UI-Instance-1")["reason"]);
        Assert.Equal("connect", (string?)SingleRowByInstance(afterBeacons, "probe-test-instance")["reason"]);
        Assert.Equal("node-beacon-host", (string?)SingleRowByInstance(afterBeacons, Connects.NodeDeviceId)["host"]);
        Assert.NotNull(RowByText(afterBeacons, "just some free text event"));
        Assert.Equal("nodehost", (string?)RowByText(afterBeacons, "Node: nodehost (10.9.8.7) · app 1.2.3 · last input 17s ago · mode ui · reason launch")!["host"]);
        // The watcher itself is gateway-client/backend: tracked here (only "cli" is untracked by default).
        Assert.Equal(7, afterBeacons.Count);

        await ui.DisposeAsync();
        await test.DisposeAsync();
        await node.DisposeAsync();
        await watcher.ReceivePresenceAsync(list =>
            (string?)RowByInstance(list, "Probe-UI-Instance-1")?["reason"] == "disconnect"
            && (string?)RowByInstance(list, "probe-test-instance")?["reason"] == "disconnect"
            && (string?)RowByInstance(list, Connects.NodeDeviceId)?["reason"] == "node-disconnected");
        var afterDisconnects = await watcher.SystemPresenceAsync();

        AssertSelfFirst(afterDisconnects);
        AssertNewestFirst(afterDisconnects);
        // Nothing was removed: rows stay until the TTL.
        Assert.Equal(7, afterDisconnects.Count);
        // The presence event carries the same list as system-presence (apart from the self row's refreshed ts).
        var latest = PresenceList(watcher.History.Last(f => IsEvent(f, "presence")));
        Assert.Equal(afterDisconnects.Skip(1).Select(r => r!.ToJsonString()), latest.Skip(1).Select(r => r!.ToJsonString()));
    }
}
