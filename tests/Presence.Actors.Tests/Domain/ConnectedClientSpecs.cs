using System.Collections.Immutable;
using System.Net;
using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class ConnectedClientSpecs
{
    private static readonly ImmutableHashSet<string> DefaultUntracked = ImmutableHashSet.Create("cli");

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.1.2")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Should_never_write_a_loopback_remote_address_as_ip(string remote)
    {
        Assert.True(Loopback.IsLoopback(IPAddress.Parse(remote)));
        Assert.Null(TestEntries.Client(remote: remote).ToUpdate().Ip);
    }

    [Theory]
    [InlineData("10.0.0.5", "10.0.0.5")]
    [InlineData("::ffff:10.0.0.5", "10.0.0.5")]
    [InlineData("2001:db8::7", "2001:db8::7")]
    public void Should_write_a_routable_remote_address_as_ip(string remote, string expected)
    {
        Assert.False(Loopback.IsLoopback(IPAddress.Parse(remote)));
        Assert.Equal(expected, TestEntries.Client(remote: remote).ToUpdate().Ip);
    }

    [Fact]
    public void Should_keep_a_client_reported_ip_when_the_client_reconnects_through_a_tunnel()
    {
        var beacon = Beacons.Structured();
        var client = TestEntries.Client(instanceId: beacon.InstanceId, remote: "::ffff:127.0.0.1");

        var state = TestEntries.State()
            .Apply(beacon, TestEntries.T0)
            .Connect(client, TestEntries.T0 + 1);

        Assert.Equal("10.1.2.3", state.Row(beacon.InstanceId!).Ip);
    }

    [Theory]
    [InlineData("cli", false)]
    [InlineData("ui", true)]
    [InlineData("node", true)]
    [InlineData("test", true)]
    public void Should_not_track_untracked_modes(string mode, bool tracked) =>
        Assert.Equal(tracked, TestEntries.Client(mode: mode).IsTracked(DefaultUntracked));

    [Fact]
    public void Should_track_every_mode_the_settings_do_not_list()
    {
        var untracked = ImmutableHashSet.Create("cli", "probe");

        Assert.False(TestEntries.Client(mode: "probe").IsTracked(untracked));
        Assert.True(TestEntries.Client(mode: "cli").IsTracked(ImmutableHashSet<string>.Empty));
    }

    [Fact]
    public void Should_describe_an_operator_connect()
    {
        var update = TestEntries.Client(instanceId: "Mac-App-1", remote: "10.0.0.5").ToUpdate();
        var entry = update.ApplyTo(existing: null, TestEntries.T0);

        Assert.Equal("connect", entry.Reason);
        Assert.Equal("Mac-App-1", entry.InstanceId);
        Assert.Equal("Probe-UI-Host", entry.Host);
        Assert.Equal("10.0.0.5", entry.Ip);
        Assert.Equal(("1.2.3", "macos 15.1", "Mac", "Mac15,3", "ui"), (entry.Version, entry.Platform, entry.DeviceFamily, entry.ModelIdentifier, entry.Mode));
        Assert.Equal<string>(["operator"], entry.Roles);
        Assert.Equal<string>(["operator.read"], entry.Scopes);
        Assert.Null(entry.LastInputSeconds);
    }

    [Fact]
    public void Should_describe_a_node_connect_with_its_device_id_as_instance_id()
    {
        var node = TestEntries.Client(role: "node", mode: "node", deviceId: "c7ff8cf2", instanceId: "node-instance", displayName: "probe-node-1");
        var entry = node.ToUpdate().ApplyTo(existing: null, TestEntries.T0);

        Assert.Equal("node-connected", entry.Reason);
        Assert.Equal("c7ff8cf2", entry.InstanceId);
        Assert.Equal("c7ff8cf2", entry.DeviceId);
        Assert.Equal<string>(["node"], entry.Roles);
        Assert.Equal("Node: probe-node-1 · mode node", entry.Text);
    }

    [Fact]
    public void Should_fall_back_to_the_client_id_as_host()
    {
        var entry = TestEntries.Client(displayName: null).ToUpdate().ApplyTo(existing: null, TestEntries.T0);

        Assert.Equal("test", entry.Host);
        Assert.Equal("Node: test · mode ui", entry.Text);
    }

    [Theory]
    [InlineData("operator", "disconnect")]
    [InlineData("node", "node-disconnected")]
    public void Should_name_the_disconnect_reason_by_role(string role, string reason) =>
        Assert.Equal(reason, TestEntries.Client(role: role).DisconnectReason);
}
