using System.Collections.Immutable;
using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;
using static Presence.Actors.Tests.TestSupport.TestEntries;

namespace Presence.Actors.Tests.Domain;

/// <summary>The merged cluster view as pure code: grouping by key, newest wins with gaps filled, one self row per node, the bound, TTL and refreshes.</summary>
public sealed class PresenceMergeSpecs
{
    private static readonly PresenceEntry Older = new() { Host = "old", Ip = "10.0.0.1", Version = "1.0", Roles = ["operator"], Text = "old text", Ts = T0 };
    private static readonly PresenceEntry Newer = new() { Host = "new", Reason = "periodic", Text = "new text", Ts = T0 + 10 };

    private static NodeRows Node(PresenceEntry? self, params (string Key, PresenceEntry Entry)[] rows) =>
        new(self, rows.ToImmutableDictionary(row => Key(row.Key), row => row.Entry));

    private static PresenceEntry OtherSelf(string name, long ts = T0) => SelfEntry.Create(name, null, "1.0.0", "linux", "Linux", $"gw-{name}", ts);

    [Fact]
    public void Should_take_every_field_of_the_newer_row_and_fill_the_rest_from_the_older()
    {
        var combined = PresenceMerge.Combine(Newer, Older);

        Assert.Equal(("new", "10.0.0.1", "1.0", "periodic", "new text", T0 + 10), (combined.Host, combined.Ip, combined.Version, combined.Reason, combined.Text, combined.Ts));
        Assert.Equal("operator", Assert.Single(combined.Roles));
    }

    [Fact]
    public void Should_group_rows_by_key_across_nodes_with_the_newest_ts_winning_whatever_the_order()
    {
        var local = new[] { KeyValuePair.Create(Key("dev"), Older) };
        var view = PresenceMerge.Merge(Self(), local, [Node(OtherSelf("b"), ("dev", Newer))], maxEntries: 200);
        var reversed = PresenceMerge.Merge(Self(), [KeyValuePair.Create(Key("dev"), Newer)], [Node(OtherSelf("b"), ("dev", Older))], maxEntries: 200);

        Assert.Equal(3, view.Length);
        Assert.Equal(SelfInstanceId, view[0].InstanceId);
        var row = Assert.Single(view, e => e.Reason != "self");
        Assert.Equal(("new", "10.0.0.1"), (row.Host, row.Ip));
        Assert.True(PresenceMerge.SameApartFromTs(row, Assert.Single(reversed, e => e.Reason != "self")));
    }

    [Fact]
    public void Should_keep_one_self_row_per_node_and_drop_the_oldest_other_rows_past_the_bound()
    {
        var rows = Enumerable.Range(0, 5).Select(i => ($"r{i}", new PresenceEntry { Text = $"r{i}", Ts = T0 + i })).ToArray();
        var view = PresenceMerge.Merge(Self(), [], [Node(OtherSelf("b", T0 - 1000), rows), Node(OtherSelf("c", T0 - 2000))], maxEntries: 5);

        Assert.Equal(5, view.Length);
        Assert.Equal(3, view.Count(e => e.Reason == "self"));
        Assert.Equal(["r4", "r3"], view.Where(e => e.Reason != "self").Select(e => e.Text));
        // Self first, then newest first.
        Assert.Equal(SelfInstanceId, view[0].InstanceId);
        Assert.Equal(view.Skip(1).OrderByDescending(e => e.Ts).Select(e => e.Ts), view.Skip(1).Select(e => e.Ts));
    }

    [Fact]
    public void Should_bump_the_version_for_a_visible_change_of_a_node_but_not_for_a_refresh()
    {
        var state = State().WithNode("b", Node(OtherSelf("b"), ("dev", Older)));
        var refreshed = state.WithNode("b", Node(OtherSelf("b", T0 + 5000), ("dev", Older with { Ts = T0 + 5000, Roles = ["operator"] })));
        var changed = refreshed.WithNode("b", Node(OtherSelf("b", T0 + 5000), ("dev", Older with { Host = "moved" })));
        var gone = changed.WithNode("b", NodeRows.Empty);

        Assert.Equal(2, state.Version);
        Assert.Equal(state.Version, refreshed.Version);
        Assert.Equal(T0 + 5000, refreshed.ToSnapshot().Entries.Single(e => e.Host == "old").Ts);
        Assert.Equal(3, changed.Version);
        Assert.Equal(4, gone.Version);
        Assert.Single(gone.ToSnapshot().Entries);
    }

    [Fact]
    public void Should_never_show_another_nodes_expired_row_and_keep_its_live_self_row()
    {
        var state = State().WithNode("b", Node(OtherSelf("b", T0 + FiveMinutesMs), ("dev", Older)));

        var expired = state.Expire(T0 + FiveMinutesMs + 1);

        Assert.Equal(state.Version + 1, expired.Version);
        Assert.Equal(["self", "self"], expired.ToSnapshot().Entries.Select(e => e.Reason));
    }

    [Fact]
    public void Should_keep_a_departed_nodes_rows_as_disconnected_and_drop_its_self_row()
    {
        var state = State().WithNode("b", Node(OtherSelf("b"), ("dev", Older with { Reason = "connect" }), ("node", Older with { Reason = "node-connected" }), ("gone", Older with { Reason = "disconnect" })));

        var left = state.NodeLeft("b", T0 + 100);

        var entries = left.ToSnapshot().Entries;
        Assert.DoesNotContain(entries, e => e.InstanceId == "gw-b");
        Assert.Equal(["disconnect", "disconnect", "node-disconnected"], entries.Skip(1).Select(e => e.Reason).Order());
        Assert.Equal(T0, entries.Single(e => e.Reason == "disconnect" && e.Ts == T0).Ts);
        Assert.Same(left, left.NodeLeft("nobody", T0));
    }

    [Fact]
    public void Should_tell_each_row_of_the_view_its_key_and_the_node_whose_newest_version_it_shows()
    {
        var state = State()
            .Upsert(Key("Local-Client"), new PresenceUpdate { InstanceId = "Local-Client", Text = "local" }, T0 + 1)
            .Upsert(Key("dev"), new PresenceUpdate { Text = "local, older" }, T0 + 2)
            .WithNode("10.0.0.2:4053#7", Node(OtherSelf("b", T0 + 3), ("dev", Newer with { Ts = T0 + 4 }), ("box", Older with { Ts = T0 + 5 })));

        var origins = state.Origins("10.0.0.1:4053", id => id.Split('#')[0]);

        // One per row of the list, in its order: the node's own rows under its name, another node's under its address.
        var snapshot = state.ToSnapshot();
        Assert.Equal(snapshot.Entries.Select(e => (e.Ts, e.InstanceId)), origins.Select(o => (o.Ts, o.InstanceId)));
        Assert.Equal((null, "10.0.0.1:4053", SelfInstanceId), (origins[0].Key, origins[0].Node, origins[0].InstanceId));
        Assert.Equal("10.0.0.2:4053", Assert.Single(origins, o => o.InstanceId == "gw-b").Node);
        Assert.Null(Assert.Single(origins, o => o.InstanceId == "gw-b").Key);
        Assert.Equal(Key("box"), Assert.Single(origins, o => o.Node == "10.0.0.2:4053" && o.Key is not null && o.Ts == T0 + 5).Key);
        var local = Assert.Single(origins, o => o.InstanceId == "Local-Client");
        Assert.Equal((Key("local-client"), "10.0.0.1:4053"), (local.Key!.Value, local.Node));
        // A key both nodes have is shown as the newer node's version, so it is that node's row.
        var dev = Assert.Single(origins, o => o.Key == Key("dev"));
        Assert.Equal(("10.0.0.2:4053", T0 + 4), (dev.Node, dev.Ts));
    }

    [Fact]
    public void Should_tell_a_single_node_its_rows_are_its_own()
    {
        var state = State().WithRows(["a", "b"], T0 + 1);

        var origins = state.Origins("gw-host", id => throw new InvalidOperationException($"no other node: {id}"));

        Assert.Equal(new PresenceKey?[] { null, Key("b"), Key("a") }, origins.Select(o => o.Key));
        Assert.All(origins, o => Assert.Equal("gw-host", o.Node));
    }
}
