using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class PresenceUpdateSpecs
{
    [Fact]
    public void Should_default_the_text_to_host_and_mode()
    {
        Assert.Equal("Node: studio · mode ui", TestEntries.Update(host: "studio", mode: "ui").ApplyTo(existing: null, TestEntries.T0).Text);
        Assert.Equal("Node: unknown · mode unknown", TestEntries.Update().ApplyTo(existing: null, TestEntries.T0).Text);
    }

    [Fact]
    public void Should_keep_the_existing_text_when_the_patch_has_none()
    {
        var existing = TestEntries.Update(host: "a", text: "custom").ApplyTo(existing: null, TestEntries.T0);

        Assert.Equal("custom", TestEntries.Update(host: "b", mode: "ui").ApplyTo(existing, TestEntries.T0 + 1).Text);
    }

    [Fact]
    public void Should_take_ts_from_the_gateway_clock_not_the_existing_row()
    {
        var existing = new PresenceEntry { Text = "t", Ts = TestEntries.T0 + 99_000 };

        Assert.Equal(TestEntries.T0, TestEntries.Update().ApplyTo(existing, TestEntries.T0).Ts);
    }
}
