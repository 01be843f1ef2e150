using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class BeaconSpecs
{
    private const string ParsedText = "Node: Parsed-Host (10.9.8.7) · app 1.2.3 · last input 17s ago · mode ui · reason launch";

    [Fact]
    public void Should_key_by_device_id_before_anything_else()
    {
        var beacon = Beacons.Text(ParsedText) with { DeviceId = "DEV-1", InstanceId = "inst-1", Ip = "10.0.0.1" };

        Assert.Equal(TestEntries.Key("dev-1"), beacon.Resolve().Key);
    }

    [Fact]
    public void Should_key_by_instance_id_without_a_device_id()
    {
        var beacon = Beacons.Text(ParsedText) with { DeviceId = " ", InstanceId = "INST-1", Ip = "10.0.0.1" };

        Assert.Equal(TestEntries.Key("inst-1"), beacon.Resolve().Key);
    }

    [Fact]
    public void Should_key_by_the_parsed_host_before_the_ip()
    {
        var beacon = Beacons.Text(ParsedText) with { Ip = "10.0.0.1" };

        Assert.Equal(TestEntries.Key("parsed-host"), beacon.Resolve().Key);
    }

    [Fact]
    public void Should_key_by_the_ip_when_the_host_is_only_explicit()
    {
        // Only a host parsed from the text keys a row; an explicit host is just a field.
        var beacon = Beacons.Text("plain") with { Host = "explicit-host", Ip = "10.0.0.1" };

        Assert.Equal(TestEntries.Key("10.0.0.1"), beacon.Resolve().Key);
    }

    [Fact]
    public void Should_key_by_the_trimmed_text_when_nothing_identifies_the_sender()
    {
        Assert.Equal(TestEntries.Key("just some free text event"), Beacons.Text(Beacons.FreeText).Resolve().Key);
    }

    [Theory]
    [InlineData("inst-1", null, "INST-1", "DEV-9")]
    [InlineData("inst-1", "dev-1", null, " dev-1 ")]
    [InlineData("inst-1", "dev-1", "DEV-1", null)]
    [InlineData(null, "dev-1", "DEV-1", "other")]
    [InlineData(null, "dev-1", null, "Dev-1")]
    public void Should_update_the_senders_row_when_its_instance_id_or_device_id_names_the_sender(string? ownInstance, string? ownDevice, string? beaconInstance, string? beaconDevice)
    {
        var sender = TestEntries.Client(instanceId: ownInstance, deviceId: ownDevice);
        var beacon = Beacons.Text(ParsedText) with { InstanceId = beaconInstance, DeviceId = beaconDevice };

        Assert.Equal(sender.Key, beacon.Resolve(sender).Key);
    }

    [Theory]
    [InlineData("inst-1", "dev-1", "inst-2", "dev-2")]
    [InlineData("inst-1", null, null, null)]
    [InlineData(null, null, "inst-1", "dev-1")]
    public void Should_key_a_beacon_that_names_another_client_as_if_no_connection_sent_it(string? ownInstance, string? ownDevice, string? beaconInstance, string? beaconDevice)
    {
        var sender = TestEntries.Client(instanceId: ownInstance, deviceId: ownDevice);
        var beacon = Beacons.Text(ParsedText) with { InstanceId = beaconInstance, DeviceId = beaconDevice };

        Assert.Equal(beacon.Resolve().Key, beacon.Resolve(sender).Key);
        Assert.NotEqual(sender.Key, beacon.Resolve(sender).Key);
    }

    [Fact]
    public void Should_keep_one_row_for_an_app_that_connects_with_a_device_and_beacons_with_both_ids()
    {
        // Keyed by its instanceId at connect; its beacon carries both ids, and deviceId alone would key another row.
        var app = TestEntries.Client(instanceId: "Mac-Instance", deviceId: "mac-device");
        var state = TestEntries.State().Connect(app, TestEntries.T0)
            .Apply(Beacons.Structured() with { InstanceId = "MAC-INSTANCE", DeviceId = "mac-device" }, TestEntries.T0 + 1000, sender: app);

        Assert.Equal(2, state.Count);
        var row = state.Row("mac-instance");
        Assert.Equal("mac-device", row.DeviceId);
        Assert.Equal(TestEntries.T0 + 1000, row.Ts);
        Assert.Null(state.Find(TestEntries.Key("mac-device")));
    }

    [Fact]
    public void Should_key_a_long_free_text_by_its_first_64_characters_only()
    {
        var head = new string('x', Beacon.FreeTextKeyLength);
        var (first, _) = Beacons.Text("  " + head + " tail one").Resolve();
        var (second, _) = Beacons.Text(head.ToUpperInvariant() + " tail two").Resolve();

        Assert.Equal(TestEntries.Key(head), first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Should_fill_fields_from_the_text_when_none_are_explicit()
    {
        var entry = TestEntries.State().Apply(Beacons.Text(Beacons.NodeText), TestEntries.T0).Row("nodehost");

        Assert.Equal(("nodehost", "10.9.8.7", "1.2.3", 17L, "ui", "launch"), (entry.Host, entry.Ip, entry.Version, entry.LastInputSeconds, entry.Mode, entry.Reason));
        Assert.Equal(Beacons.NodeText, entry.Text);
    }

    [Fact]
    public void Should_let_explicit_fields_win_over_the_text()
    {
        var beacon = Beacons.Text(ParsedText) with
        {
            InstanceId = "inst-1",
            Host = "explicit-host",
            Ip = "10.0.0.1",
            Version = "9.9.9",
            Mode = "webchat",
            Reason = "periodic",
            LastInputSeconds = 3,
        };

        var entry = TestEntries.State().Apply(beacon, TestEntries.T0).Row("inst-1");

        Assert.Equal(("explicit-host", "10.0.0.1", "9.9.9", 3L, "webchat", "periodic"), (entry.Host, entry.Ip, entry.Version, entry.LastInputSeconds, entry.Mode, entry.Reason));
    }

    [Fact]
    public void Should_let_the_text_win_over_the_existing_row()
    {
        var existing = Beacons.Text("first") with
        {
            InstanceId = "inst-1",
            Host = "old-host",
            Ip = "10.0.0.1",
            Version = "0.1",
            Mode = "webchat",
            Reason = "periodic",
            LastInputSeconds = 99,
        };

        var entry = TestEntries.State()
            .Apply(existing, TestEntries.T0)
            .Apply(Beacons.Text(ParsedText) with { InstanceId = "inst-1" }, TestEntries.T0 + 1)
            .Row("inst-1");

        Assert.Equal(("Parsed-Host", "10.9.8.7", "1.2.3", 17L, "ui", "launch"), (entry.Host, entry.Ip, entry.Version, entry.LastInputSeconds, entry.Mode, entry.Reason));
    }

    [Fact]
    public void Should_keep_existing_fields_the_beacon_does_not_carry()
    {
        var state = TestEntries.State()
            .Apply(Beacons.Structured(), TestEntries.T0)
            .Apply(Beacons.MergePartial(), TestEntries.T0 + 1);

        var entry = state.Row("probe-ui-instance-1");

        // As captured in 02-09: text and reason replaced, the rest kept, roles unioned, the newer spelling of the id.
        Assert.Equal(1 + 1, state.Count);
        Assert.Equal("probe beacon two", entry.Text);
        Assert.Equal("heartbeat", entry.Reason);
        Assert.Equal(("beacon-host", "10.1.2.3", "9.9.9", "macos 15.1", "Mac", "Mac15,3", "ui", 42L), (entry.Host, entry.Ip, entry.Version, entry.Platform, entry.DeviceFamily, entry.ModelIdentifier, entry.Mode, entry.LastInputSeconds));
        Assert.Equal<string>(["operator", "node"], entry.Roles);
        Assert.Equal<string>(["operator.read"], entry.Scopes);
        Assert.Equal("probe-ui-instance-1", entry.InstanceId);
    }

    [Fact]
    public void Should_union_roles_and_scopes_without_duplicates()
    {
        var entry = TestEntries.State()
            .Apply(Beacons.Text("a") with { InstanceId = "i", Roles = ["operator"], Scopes = ["operator.read", "operator.write"] }, TestEntries.T0)
            .Apply(Beacons.Text("b") with { InstanceId = "i", Roles = ["node", "operator", "node"], Scopes = ["operator.admin", "operator.read"] }, TestEntries.T0 + 1)
            .Row("i");

        Assert.Equal<string>(["operator", "node"], entry.Roles);
        Assert.Equal<string>(["operator.read", "operator.write", "operator.admin"], entry.Scopes);
    }

    [Fact]
    public void Should_remove_last_input_when_tagged_even_if_a_value_is_sent()
    {
        var state = TestEntries.State()
            .Apply(Beacons.Structured(), TestEntries.T0)
            .Apply(Beacons.MergePartial(), TestEntries.T0 + 1);
        Assert.Equal(42L, state.Row("probe-ui-instance-1").LastInputSeconds);

        var entry = state.Apply(Beacons.ClearLastInput(), TestEntries.T0 + 2).Row("probe-ui-instance-1");

        Assert.Null(entry.LastInputSeconds);
        Assert.Equal("probe beacon three", entry.Text);
        Assert.Equal("heartbeat", entry.Reason);
    }

    [Fact]
    public void Should_remove_a_last_input_parsed_from_the_text_when_tagged()
    {
        var beacon = Beacons.Text(Beacons.NodeText) with { Tags = [Beacon.ClearLastInputTag] };

        Assert.Null(TestEntries.State().Apply(beacon, TestEntries.T0).Row("nodehost").LastInputSeconds);
    }

    [Fact]
    public void Should_merge_a_beacon_into_the_connection_row_with_the_same_instance_id()
    {
        var client = TestEntries.Client(instanceId: "Probe-UI-Instance-1");
        var state = TestEntries.State()
            .Connect(client, TestEntries.T0)
            .Apply(Beacons.MergePartial(), TestEntries.T0 + 1);

        Assert.Equal(2, state.Count);
        var entry = state.Row("probe-ui-instance-1");
        Assert.Equal("Probe-UI-Host", entry.Host);
        Assert.Equal("heartbeat", entry.Reason);
        Assert.Equal<string>(["operator", "node"], entry.Roles);
    }

    [Fact]
    public void Should_keep_only_text_and_ts_for_a_free_text_beacon()
    {
        var entry = TestEntries.State().Apply(Beacons.Text(Beacons.FreeText), TestEntries.T0).Row("just some free text event");

        // The JSON leaves out every absent field, so it shows exactly what the row holds.
        Assert.Equal("{\"text\":\"just some free text event\",\"ts\":1795630000000}", System.Text.Encoding.UTF8.GetString(PresenceJson.Serialize(entry)));
    }

    [Fact]
    public void Should_stamp_ts_with_the_gateway_time_of_each_update()
    {
        var state = TestEntries.State().Apply(Beacons.Structured(), TestEntries.T0);
        Assert.Equal(TestEntries.T0, state.Row("probe-ui-instance-1").Ts);

        Assert.Equal(TestEntries.T0 + 750, state.Apply(Beacons.MergePartial(), TestEntries.T0 + 750).Row("probe-ui-instance-1").Ts);
    }
}
