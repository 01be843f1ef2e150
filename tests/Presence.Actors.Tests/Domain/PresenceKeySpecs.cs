using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class PresenceKeySpecs
{
    [Theory]
    [InlineData("Probe-UI-Instance-1")]
    [InlineData("probe-ui-instance-1")]
    [InlineData("  PROBE-UI-INSTANCE-1\t")]
    public void Should_treat_keys_as_case_insensitive_and_trimmed(string raw)
    {
        Assert.Equal(PresenceKey.From("probe-ui-instance-1"), PresenceKey.From(raw));
        Assert.Equal("probe-ui-instance-1", PresenceKey.From(raw).Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Should_refuse_a_blank_key(string raw) =>
        Assert.ThrowsAny<ArgumentException>(() => PresenceKey.From(raw));

    [Fact]
    public void Should_key_an_operator_connection_by_its_instance_id()
    {
        var client = TestEntries.Client(connection: "conn-1", instanceId: "Mac-App-1", deviceId: "device-1");

        Assert.Equal(TestEntries.Key("mac-app-1"), client.Key);
    }

    [Fact]
    public void Should_key_an_operator_connection_without_instance_id_by_its_connection_id()
    {
        var first = TestEntries.Client(connection: "conn-1", instanceId: "  ");
        var reconnect = TestEntries.Client(connection: "conn-2", instanceId: null);

        // Without a stable id a reconnect is a new row: the expected duplicate of the debugging guide.
        Assert.Equal(TestEntries.Key("conn-1"), first.Key);
        Assert.NotEqual(first.Key, reconnect.Key);
    }

    [Fact]
    public void Should_key_a_node_by_device_id_then_instance_id_then_connection_id()
    {
        Assert.Equal(TestEntries.Key("dev-a"), TestEntries.Client(role: "node", deviceId: "DEV-A", instanceId: "inst-a").Key);
        Assert.Equal(TestEntries.Key("inst-a"), TestEntries.Client(role: "node", deviceId: " ", instanceId: "INST-A").Key);
        Assert.Equal(TestEntries.Key("conn-9"), TestEntries.Client(connection: "conn-9", role: "node").Key);
    }

    [Fact]
    public void Should_give_a_reconnect_with_the_same_instance_id_the_same_row()
    {
        var state = TestEntries.State()
            .Connect(TestEntries.Client(connection: "conn-1", instanceId: "Mac-App-1"), TestEntries.T0)
            .Connect(TestEntries.Client(connection: "conn-2", instanceId: "mac-app-1"), TestEntries.T0 + 1);

        Assert.Equal(2, state.Count);
    }
}
