using Presence.Actors.Domain;
using Presence.Gateway.Operators;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>The status words every view uses (the page gets the same thresholds), exactly at their edges.</summary>
public sealed class InstanceRowsSpecs
{
    [Theory]
    [InlineData(0, "connect", "Active")]
    [InlineData(120_000, "periodic", "Active")]
    [InlineData(120_001, "periodic", "Idle")]
    [InlineData(300_000, "self", "Idle")]
    [InlineData(300_001, null, "Stale")]
    [InlineData(0, "disconnect", "Left")]
    [InlineData(120_000, "node-disconnected", "Left")]
    [InlineData(120_001, "disconnect", "Idle")]
    [InlineData(300_001, "disconnect", "Stale")]
    public void Should_word_a_row_by_the_age_of_its_ts_and_whether_its_client_left(int ageMs, string? reason, string expected)
    {
        Assert.Equal(expected, PresenceStatuses.Of(TimeSpan.FromMilliseconds(ageMs), reason).ToString());
    }

    [Theory]
    [InlineData(40_000, "disconnect", "left 40s ago")]
    [InlineData(40_000, "node-disconnected", "left 40s ago")]
    [InlineData(40_000, "connect", "40s ago")]
    [InlineData(500, "disconnect", "left just now")]
    public void Should_say_how_long_ago_a_departed_client_left(int ageMs, string reason, string expected)
    {
        Assert.Equal(expected, InstanceRows.Updated(TimeSpan.FromMilliseconds(ageMs), reason));
    }
}
