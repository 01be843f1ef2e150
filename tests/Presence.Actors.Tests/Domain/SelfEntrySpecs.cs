using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class SelfEntrySpecs
{
    [Fact]
    public void Should_describe_the_gateway_with_its_ip_in_the_text()
    {
        var self = TestEntries.Self();

        Assert.Equal("Gateway: gw-host (192.0.2.2) · app 1.0.0 · mode gateway · reason self", self.Text);
        Assert.Equal(("gateway", "self", "192.0.2.2", TestEntries.SelfInstanceId), (self.Mode, self.Reason, self.Ip, self.InstanceId));
    }

    [Fact]
    public void Should_leave_the_ip_out_of_the_text_when_there_is_none()
    {
        var self = TestEntries.Self(ip: null);

        Assert.Equal("Gateway: gw-host · app 1.0.0 · mode gateway · reason self", self.Text);
        Assert.Null(self.Ip);
    }

    [Fact]
    public void Should_detect_this_machine_with_a_non_loopback_ip_and_a_fresh_instance_id()
    {
        var self = SelfEntry.Detect(TestEntries.T0);
        var again = SelfEntry.Detect(TestEntries.T0);

        Assert.Equal(Environment.MachineName, self.Host);
        Assert.Equal(("gateway", "self", TestEntries.T0), (self.Mode, self.Reason, self.Ts));
        Assert.False(string.IsNullOrWhiteSpace(self.Version));
        Assert.False(string.IsNullOrWhiteSpace(self.Platform));
        Assert.StartsWith($"Gateway: {self.Host}", self.Text, StringComparison.Ordinal);
        if (self.Ip is not null)
            Assert.False(Loopback.IsLoopback(System.Net.IPAddress.Parse(self.Ip)));
        Assert.NotEqual(self.InstanceId, again.InstanceId);
    }
}
