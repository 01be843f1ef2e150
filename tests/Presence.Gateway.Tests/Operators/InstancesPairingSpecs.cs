using System.Text.Json;
using Presence.Gateway.Operators;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>How <c>instances</c> pairs the list's entries with the rows of <c>presence-gateway.instances</c> (the page's instances.js pairs the same way).</summary>
public sealed class InstancesPairingSpecs
{
    [Fact]
    public void Should_pair_rows_without_an_instance_id_written_in_the_same_millisecond_by_their_text()
    {
        // A burst handled in one millisecond: the answer may list the rows in another order than the list.
        using var list = JsonDocument.Parse("""[{"text":"burst beacon 0","ts":1000},{"text":"burst beacon 1","ts":1000}]""");
        using var instances = JsonDocument.Parse("""
            {"rows":[{"key":"burst beacon 1","node":"n","ts":1000,"text":"burst beacon 1"},
                     {"key":"burst beacon 0","node":"n","ts":1000,"text":"burst beacon 0"}],"nodes":[]}
            """);

        var views = InstancesTable.Views(list.RootElement, instances.RootElement);

        Assert.All(views, view => Assert.Equal(view.EntryText, view.Key));
    }

    [Fact]
    public void Should_pair_a_renewed_row_with_the_nearest_ts_of_the_same_text()
    {
        using var list = JsonDocument.Parse("""[{"instanceId":"a","text":"one","ts":1000},{"instanceId":"a","text":"two","ts":1000}]""");
        using var instances = JsonDocument.Parse("""
            {"rows":[{"key":"k-two","node":"n","ts":1500,"instanceId":"a","text":"two"},
                     {"key":"k-one","node":"n","ts":1400,"instanceId":"a","text":"one"}],"nodes":[]}
            """);

        var views = InstancesTable.Views(list.RootElement, instances.RootElement);

        Assert.Equal(["k-one", "k-two"], views.OrderBy(view => view.EntryText).Select(view => view.Key));
    }
}
