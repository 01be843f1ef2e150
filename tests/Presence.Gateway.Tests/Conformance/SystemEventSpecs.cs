using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// captures/02-07 … 02-14 and 02-18: <c>system-event</c> beacons sent by the admin watcher, the rows
/// they produce, and their validation errors. Keys follow presence-rules.md: deviceId, else
/// instanceId, else parsed host, else ip, else the text; a beacon with a connection's instanceId
/// updates that connection's row.
/// </summary>
public sealed class SystemEventSpecs
{
    private static JsonObject BeaconOne() => new()
    {
        ["text"] = "probe beacon one",
        ["instanceId"] = "Probe-UI-Instance-1",
        ["host"] = "beacon-host",
        ["ip"] = "10.1.2.3",
        ["lastInputSeconds"] = 42,
        ["mode"] = "ui",
        ["reason"] = "periodic",
        ["version"] = "9.9.9",
        ["platform"] = "macos 15.1",
        ["deviceFamily"] = "Mac",
        ["modelIdentifier"] = "Mac15,3",
        ["roles"] = new JsonArray("operator"),
        ["scopes"] = new JsonArray("operator.read"),
    };

    private static JsonObject BeaconOneRow() => new()
    {
        ["instanceId"] = "Probe-UI-Instance-1",
        ["host"] = "beacon-host",
        ["ip"] = "10.1.2.3",
        ["version"] = "9.9.9",
        ["platform"] = "macos 15.1",
        ["deviceFamily"] = "Mac",
        ["modelIdentifier"] = "Mac15,3",
        ["mode"] = "ui",
        ["lastInputSeconds"] = 42,
        ["reason"] = "periodic",
        ["roles"] = new JsonArray("operator"),
        ["scopes"] = new JsonArray("operator.read"),
        ["text"] = "probe beacon one",
    };

    /// <summary>
    /// OpenClaw gives this beacon its own row next to the UI connection's; presence-rules.md says a
    /// beacon with a connection's instanceId updates that same row. Deviation by design.
    /// </summary>
    [Fact]
    public async Task Should_merge_a_structured_beacon_into_the_connection_row_of_its_instance_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var ui = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await watcher.ReceivePresenceAsync(list => HasInstance(list, "Probe-UI-Instance-1"));

        await watcher.BeaconAsync(BeaconOne());

        var announced = await watcher.ReceivePresenceAsync(list => RowByInstance(list, "Probe-UI-Instance-1")?["text"]?.GetValue<string>() == "probe beacon one");
        // Explicit beacon fields win; the connection's roles/scopes are unioned (same values here).
        AssertRow(BeaconOneRow(), SingleRowByInstance(PresenceList(announced), "Probe-UI-Instance-1"));
    }

    [Fact]
    public async Task Should_create_a_row_from_a_structured_beacon()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();

        await watcher.BeaconAsync(BeaconOne());

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "Probe-UI-Instance-1"));
        AssertRow(BeaconOneRow(), SingleRowByInstance(PresenceList(announced), "Probe-UI-Instance-1"));
    }

    [Fact]
    public async Task Should_parse_fields_out_of_node_presence_text()
    {
        const string text = "Node: nodehost (10.9.8.7) · app 1.2.3 · last input 17s ago · mode ui · reason launch";
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();

        await watcher.BeaconAsync(new JsonObject { ["text"] = text });

        var announced = await watcher.ReceivePresenceAsync(list => RowByText(list, text) is not null);
        AssertRow(new JsonObject
        {
            ["host"] = "nodehost",
            ["ip"] = "10.9.8.7",
            ["version"] = "1.2.3",
            ["lastInputSeconds"] = 17,
            ["mode"] = "ui",
            ["reason"] = "launch",
            ["text"] = text,
        }, RowByText(PresenceList(announced), text));
    }

    [Fact]
    public async Task Should_merge_a_partial_beacon_into_the_same_key_ignoring_case()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await watcher.BeaconAsync(BeaconOne());

        await watcher.BeaconAsync(new JsonObject
        {
            ["text"] = "probe beacon two",
            ["instanceId"] = "probe-ui-instance-1",
            ["reason"] = "heartbeat",
            ["roles"] = new JsonArray("node"),
        });

        var announced = await watcher.ReceivePresenceAsync(list => RowByText(list, "probe beacon two") is not null);
        var expected = BeaconOneRow();
        expected["instanceId"] = "probe-ui-instance-1";
        expected["reason"] = "heartbeat";
        expected["roles"] = new JsonArray("operator", "node");
        expected["text"] = "probe beacon two";
        AssertRow(expected, SingleRowByInstance(PresenceList(announced), "probe-ui-instance-1"));
    }

    [Fact]
    public async Task Should_clear_last_input_on_the_clear_tag_even_when_a_value_is_sent()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await watcher.BeaconAsync(BeaconOne());

        await watcher.BeaconAsync(new JsonObject
        {
            ["text"] = "probe beacon three",
            ["instanceId"] = "probe-ui-instance-1",
            ["lastInputSeconds"] = 5,
            ["tags"] = new JsonArray("system-presence-clear-last-input"),
        });

        var announced = await watcher.ReceivePresenceAsync(list => RowByText(list, "probe beacon three") is not null);
        var expected = BeaconOneRow();
        expected.Remove("lastInputSeconds");
        expected["instanceId"] = "probe-ui-instance-1";
        expected["text"] = "probe beacon three";
        AssertRow(expected, SingleRowByInstance(PresenceList(announced), "probe-ui-instance-1"));
    }

    /// <summary>
    /// An app with a device identity and a stable instanceId (U2 of the captures) is keyed by its instanceId; its own
    /// beacons carry both ids, and each names it, so they update its row instead of making a second one under the device id.
    /// </summary>
    [Theory]
    [InlineData("PROBE-UI-INSTANCE-1", Connects.MacDeviceId)]
    [InlineData(null, Connects.MacDeviceId)]
    [InlineData("probe-ui-instance-1", null)]
    public async Task Should_update_the_senders_row_when_its_beacon_names_it_by_instance_id_or_device_id(string? instanceId, string? deviceId)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var app = await gateway.ConnectAndHandshakeAsync(Connects.UiWithDevice(scopes: ["operator.admin"]));
        await watcher.ReceivePresenceAsync(list => HasInstance(list, "PROBE-UI-INSTANCE-1"));
        var beacon = new JsonObject { ["text"] = "app beacon", ["host"] = "app-host", ["reason"] = "periodic", ["lastInputSeconds"] = 3 };
        if (instanceId is not null)
            beacon["instanceId"] = instanceId;
        if (deviceId is not null)
            beacon["deviceId"] = deviceId;

        await app.BeaconAsync(beacon);

        var list = PresenceList(await watcher.ReceivePresenceAsync(list => RowByText(list, "app beacon") is not null));
        var row = SingleRowByInstance(list, "PROBE-UI-INSTANCE-1");
        Assert.Equal("app beacon", (string?)row["text"]);
        Assert.Equal("periodic", (string?)row["reason"]);
        Assert.Equal(Connects.MacDeviceId, (string?)row["deviceId"]);
        // The watcher, the gateway and the app: no second row for the app's device.
        Assert.Equal(3, list.Count);
    }

    [Fact]
    public async Task Should_key_a_beacon_from_another_connection_by_device_id_before_instance_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        // The beacon names U2's device but comes over another connection, which it does not name: keyed by device id.
        // (Not the watcher's own: the event could arrive while it waits for the reply, and be skipped.)
        await using var reporter = await gateway.ConnectAndHandshakeAsync();
        await using var ui = await gateway.ConnectAndHandshakeAsync(Connects.UiWithDevice());
        await watcher.ReceivePresenceAsync(list => HasInstance(list, "PROBE-UI-INSTANCE-1"));

        await reporter.BeaconAsync(new JsonObject
        {
            ["text"] = "device beacon",
            ["deviceId"] = Connects.MacDeviceId,
            ["instanceId"] = "something-else",
            ["host"] = "dev-host",
        });

        var announced = await watcher.ReceivePresenceAsync(list => RowByText(list, "device beacon") is not null);
        var list = PresenceList(announced);
        AssertRow(new JsonObject
        {
            ["text"] = "device beacon",
            ["host"] = "dev-host",
            ["deviceId"] = Connects.MacDeviceId,
            ["instanceId"] = "something-else",
        }, RowByText(list, "device beacon"));
        Assert.Equal("connect", (string?)SingleRowByInstance(list, "PROBE-UI-INSTANCE-1")["reason"]);
    }

    [Fact]
    public async Task Should_merge_a_beacon_with_a_node_device_id_into_the_node_row()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var node = await gateway.ConnectAndHandshakeAsync(Connects.Node());
        await watcher.ReceivePresenceAsync(list => HasInstance(list, Connects.NodeDeviceId));

        await watcher.BeaconAsync(new JsonObject
        {
            ["text"] = "node device beacon",
            ["deviceId"] = Connects.NodeDeviceId,
            ["host"] = "node-beacon-host",
            ["lastInputSeconds"] = 3,
        });

        var announced = await watcher.ReceivePresenceAsync(list => RowByText(list, "node device beacon") is not null);
        AssertRow(new JsonObject
        {
            ["instanceId"] = Connects.NodeDeviceId,
            ["host"] = "node-beacon-host",
            ["version"] = "2026.9.6",
            ["platform"] = "linux",
            ["deviceFamily"] = "Linux",
            ["mode"] = "node",
            ["lastInputSeconds"] = 3,
            // No reason in the beacon: the connect reason stays.
            ["reason"] = "node-connected",
            ["deviceId"] = Connects.NodeDeviceId,
            ["roles"] = new JsonArray("node"),
            ["text"] = "node device beacon",
        }, SingleRowByInstance(PresenceList(announced), Connects.NodeDeviceId));
    }

    [Fact]
    public async Task Should_store_free_text_trimmed_as_a_text_only_row()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();

        await watcher.BeaconAsync(new JsonObject { ["text"] = "   just some free text event   " });

        var announced = await watcher.ReceivePresenceAsync(list => RowByText(list, "just some free text event") is not null);
        AssertRow(new JsonObject { ["text"] = "just some free text event" }, RowByText(PresenceList(announced), "just some free text event"));
    }

    [Fact]
    public async Task Should_reject_a_null_last_input_without_changing_anything()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await watcher.BeaconAsync(BeaconOne());
        await watcher.ReceivePresenceAsync(list => HasInstance(list, "Probe-UI-Instance-1"));

        var response = await watcher.CallAsync("system-event", new JsonObject { ["text"] = "null lis", ["instanceId"] = "probe-ui-instance-1", ["lastInputSeconds"] = null });

        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", "invalid system-event params: at /lastInputSeconds: must be number");
        // The next presence event is the marker's, and the rejected beacon left the row as it was.
        await watcher.BeaconAsync(new JsonObject { ["text"] = "marker", ["instanceId"] = "marker" });
        var next = await watcher.ReceivePresenceAsync();
        Assert.True(HasInstance(PresenceList(next), "marker"), next.ToJsonString());
        AssertRow(BeaconOneRow(), SingleRowByInstance(PresenceList(next), "Probe-UI-Instance-1"));
    }

    /// <summary>captures/02-18-system-event-errors.json, case by case.</summary>
    [Fact]
    public async Task Should_answer_invalid_system_event_params_like_the_capture()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();

        (JsonObject? Params, string Message)[] cases =
        [
            (new JsonObject(), "invalid system-event params: must have required property 'text'"),
            (new JsonObject { ["text"] = "   " }, "text required"),
            (new JsonObject { ["text"] = "x", ["bogus"] = 1 }, "invalid system-event params: at root: unexpected property 'bogus'"),
            (new JsonObject { ["text"] = "x", ["lastInputSeconds"] = "12" }, "invalid system-event params: at /lastInputSeconds: must be number"),
            (null, "invalid system-event params: must have required property 'text'"),
        ];
        foreach (var (parameters, message) in cases)
        {
            var response = await watcher.CallAsync("system-event", parameters);
            AssertError(response, (string)response["id"]!, "INVALID_REQUEST", message);
        }
        Assert.False(watcher.IsClosed);
    }

    [Fact]
    public async Task Should_refuse_wake_on_a_node_presence_line()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();

        var response = await watcher.CallAsync("system-event", new JsonObject { ["text"] = "Node: h (10.0.0.1) · app 1 · mode ui · reason periodic", ["wake"] = true });

        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", "wake is not supported for node presence events");
    }
}
