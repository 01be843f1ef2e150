using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class BeaconTextSpecs
{
    [Fact]
    public void Should_parse_every_field_of_the_captured_node_text()
    {
        var parsed = BeaconText.Parse(Beacons.NodeText);

        Assert.Equal(new BeaconText("nodehost", "10.9.8.7", "1.2.3", 17, "ui", "launch"), parsed);
    }

    [Fact]
    public void Should_match_case_insensitively_around_padding()
    {
        var parsed = BeaconText.Parse("  node:   Studio-Mac  ( 10.0.0.2 ) · APP 2026.9.6 beta · LAST INPUT 0s ago · MODE ui · REASON periodic tick  ");

        Assert.Equal(new BeaconText("Studio-Mac", "10.0.0.2", "2026.9.6 beta", 0, "ui", "periodic tick"), parsed);
    }

    [Theory]
    [InlineData("probe beacon one")]
    [InlineData("Node: probe-node-1 · mode node")]
    // Current macOS beacons leave out "last input", so they carry their fields structured instead.
    [InlineData("Node: mac-mini (10.0.0.2) · app 2026.9.6 · mode ui · reason periodic")]
    [InlineData("Gateway: vm (192.0.2.2) · app 2026.9.6 · mode gateway · reason self")]
    public void Should_parse_nothing_from_other_texts(string text) =>
        Assert.Null(BeaconText.Parse(text));

    [Fact]
    public void Should_drop_an_idle_time_beyond_any_believable_value_but_keep_the_rest()
    {
        var parsed = BeaconText.Parse("Node: h (10.0.0.1) · app 1 · last input 99999999999999999999s ago · mode ui · reason r");

        Assert.NotNull(parsed);
        Assert.Null(parsed.LastInputSeconds);
        Assert.Equal("h", parsed.Host);
    }
}
