using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;
using static Presence.Actors.Tests.TestSupport.TestEntries;

namespace Presence.Actors.Tests.Domain;

public sealed class PresenceStateSpecs
{
    private static IEnumerable<string> Names(string prefix, int count) => Enumerable.Range(0, count).Select(i => $"{prefix}-{i:D3}");

    [Fact]
    public void Should_keep_a_row_exactly_ttl_old_and_drop_it_a_millisecond_later()
    {
        var state = State(ttlMs: FiveMinutesMs).WithRows(["row"], T0);

        Assert.NotNull(state.Expire(T0 + FiveMinutesMs).Find(Key("row")));
        Assert.Null(state.Expire(T0 + FiveMinutesMs + 1).Find(Key("row")));
    }

    [Fact]
    public void Should_drop_only_the_expired_rows_in_a_sweep()
    {
        var state = State(ttlMs: 1_000).WithRows(["old"], T0).WithRows(["fresh"], T0 + 500);

        var swept = state.Sweep(T0 + 1_200);

        Assert.Null(swept.Find(Key("old")));
        Assert.NotNull(swept.Find(Key("fresh")));
    }

    [Fact]
    public void Should_never_expire_the_self_row()
    {
        var state = State(ttlMs: 1_000, selfTs: T0);

        var expired = state.Expire(T0 + 1_000_000);
        var swept = state.Sweep(T0 + 1_000_000);

        Assert.Equal(SelfInstanceId, expired.ToSnapshot().Entries[0].InstanceId);
        Assert.Equal(T0 + 1_000_000, swept.Self.Ts);
        Assert.Equal(1, swept.Count);
    }

    [Fact]
    public void Should_keep_the_self_row_and_the_199_newest_of_250_rows()
    {
        var state = State(maxEntries: 200, selfTs: T0 - 60_000).WithRows(Names("row", 250), T0);

        var snapshot = state.ToSnapshot();

        Assert.Equal(200, state.Count);
        Assert.Equal(200, snapshot.Entries.Length);
        Assert.Equal(SelfInstanceId, snapshot.Entries[0].InstanceId);
        Assert.Equal(Names("row", 250).Skip(51).Reverse(), snapshot.Entries.Skip(1).Select(entry => entry.Host));
    }

    [Fact]
    public void Should_evict_the_oldest_row_even_when_it_was_updated_in_place_earlier()
    {
        // "row-000" is refreshed last, so "row-001" is then the oldest and goes first.
        var state = State(maxEntries: 4).WithRows(Names("row", 3), T0).WithRows(["row-000"], T0 + 10);

        var next = state.WithRows(["new"], T0 + 20);

        Assert.Null(next.Find(Key("row-001")));
        Assert.NotNull(next.Find(Key("row-000")));
        Assert.NotNull(next.Find(Key("new")));
    }

    [Fact]
    public void Should_keep_only_the_self_row_when_the_bound_is_one()
    {
        var state = State(maxEntries: 1);

        var next = state.WithRows(["row"], T0 + 1);

        Assert.Equal(1, next.Count);
        Assert.Equal(SelfInstanceId, next.ToSnapshot().Entries.Single().InstanceId);
        Assert.Equal(state.Version, next.Version);
    }

    [Fact]
    public void Should_list_the_self_row_first_then_the_others_newest_first()
    {
        var state = State(selfTs: T0)
            .WithRows(["five"], T0 + 5)
            .WithRows(["ten"], T0 + 10)
            .WithRows(["one"], T0 + 1);

        var hosts = state.ToSnapshot().Entries.Select(entry => entry.Host);

        Assert.Equal(["gw-host", "ten", "five", "one"], hosts);
    }

    [Fact]
    public void Should_count_one_version_per_visible_change()
    {
        var client = Client(instanceId: "mac-app-1");
        var start = State(ttlMs: 1_000).WithRows(["beacon"], T0);
        var connected = start.Connect(client, T0 + 100);
        var disconnected = connected.Disconnect(client, T0 + 200);
        // Both the beacon row and the connection row are older than the TTL by now: one change, one step.
        var expired = disconnected.Expire(T0 + 1_300);

        Assert.Equal(start.Version + 1, connected.Version);
        Assert.Equal(connected.Version + 1, disconnected.Version);
        Assert.Equal(disconnected.Version + 1, expired.Version);
        Assert.Equal(1, expired.Count);
    }

    [Fact]
    public void Should_count_one_version_for_an_upsert_that_evicts()
    {
        var full = State(maxEntries: 3).WithRows(Names("row", 2), T0);

        Assert.Equal(full.Version + 1, full.WithRows(["new"], T0 + 10).Version);
    }

    [Fact]
    public void Should_count_the_rows_the_bound_pushed_out_and_nothing_else()
    {
        var full = State(maxEntries: 3, ttlMs: 1_000).WithRows(Names("row", 2), T0);

        var evicting = full.WithRows(["new"], T0 + 10).WithRows(["newer"], T0 + 20);
        var updatedAndSwept = evicting.WithRows(["newer"], T0 + 30).Sweep(T0 + 1_015);

        Assert.Equal(0, full.Evicted);
        Assert.Equal(2, evicting.Evicted);
        Assert.Equal(2, updatedAndSwept.Evicted);
        Assert.Null(updatedAndSwept.Find(Key("new")));
    }

    [Fact]
    public void Should_announce_silent_renewals_on_the_first_sweep_at_least_the_renewal_interval_after_the_last_visible_change()
    {
        // Sweeps every 10 s from T0, renewal interval 60 s: the sweep at T0 + 50 s is too early, the one at T0 + 60 s is due.
        var client = Client(instanceId: "mac-app-1");
        var state = State().Connect(client, T0).Sweep(T0);
        for (var second = 10; second <= 50; second += 10)
            state = state.Touch(client.Key, client.Connection, T0 + second * 1000 - 5).Sweep(T0 + second * 1000);
        var quiet = state.Version;

        var due = state.Sweep(T0 + 60_000);

        Assert.Equal(quiet + 1, due.Version);
        Assert.Equal(T0 + 50_000 - 5, due.Row("mac-app-1").Ts);
        // The wait starts again from the announcement: the next one is due 60 s later, not before.
        Assert.Equal(due.Version, due.Sweep(T0 + 119_999).Version);
        Assert.Equal(due.Version + 1, due.Sweep(T0 + 119_999).Sweep(T0 + 120_000).Version);
    }

    [Fact]
    public void Should_not_announce_renewals_while_visible_changes_keep_readers_up_to_date()
    {
        var state = State().Sweep(T0);
        for (var second = 10; second <= 300; second += 10)
        {
            var before = state.Version;
            state = state.Apply(Beacons.Text($"beacon {second}") with { InstanceId = "busy" }, T0 + second * 1000 - 1).Sweep(T0 + second * 1000);
            // One version for the beacon, none for renewals: readers already got every ts with it.
            Assert.Equal(before + 1, state.Version);
        }
    }

    [Fact]
    public void Should_not_count_a_version_for_refreshing_freshness()
    {
        var client = Client(instanceId: "mac-app-1");
        var state = State(ttlMs: 1_000).Connect(client, T0);

        var touched = state.Touch(client.Key, client.Connection, T0 + 900);
        var swept = touched.Sweep(T0 + 1_500);

        Assert.Equal(state.Version, touched.Version);
        Assert.Equal(T0 + 900, touched.Row("mac-app-1").Ts);
        // The touch kept the row alive past its original expiry; the sweep only refreshed the self row.
        Assert.Equal(state.Version, swept.Version);
        Assert.NotNull(swept.Find(client.Key));
        Assert.Equal(T0 + 1_500, swept.Self.Ts);
        Assert.Same(swept, swept.Expire(T0 + 1_500));
    }

    [Fact]
    public void Should_ignore_a_touch_from_a_connection_that_does_not_own_the_row()
    {
        var client = Client(connection: "conn-1", instanceId: "mac-app-1");
        var state = State().Connect(client, T0);

        Assert.Same(state, state.Touch(client.Key, new ConnectionId("conn-other"), T0 + 10));
    }

    [Fact]
    public void Should_keep_a_disconnected_row_stamped_disconnect()
    {
        var client = Client(instanceId: "mac-app-1", remote: "10.0.0.5");
        var connected = State().Connect(client, T0);

        var entry = connected.Disconnect(client, T0 + 30_000).Row("mac-app-1");

        Assert.Equal("disconnect", entry.Reason);
        Assert.Equal(T0 + 30_000, entry.Ts);
        Assert.Equal(connected.Row("mac-app-1") with { Reason = "disconnect", Ts = T0 + 30_000 }, entry);
    }

    [Fact]
    public void Should_stamp_a_disconnected_node_node_disconnected()
    {
        var node = Client(role: "node", mode: "node", deviceId: "dev-1");

        var entry = State().Connect(node, T0).Disconnect(node, T0 + 1).Row("dev-1");

        Assert.Equal("node-disconnected", entry.Reason);
    }

    [Fact]
    public void Should_leave_a_row_alone_when_an_old_connection_of_it_closes()
    {
        var first = Client(connection: "conn-1", instanceId: "mac-app-1");
        var second = Client(connection: "conn-2", instanceId: "Mac-App-1");
        var reclaimed = State().Connect(first, T0).Connect(second, T0 + 10);

        var afterOldClose = reclaimed.Disconnect(first, T0 + 20);

        Assert.Same(reclaimed, afterOldClose);
        Assert.Equal("connect", afterOldClose.Row("mac-app-1").Reason);
        Assert.Equal("disconnect", afterOldClose.Disconnect(second, T0 + 30).Row("mac-app-1").Reason);
    }

    [Fact]
    public void Should_let_the_owning_connection_mark_a_row_a_beacon_has_updated_since()
    {
        var client = Client(instanceId: "probe-ui-instance-1");
        var state = State().Connect(client, T0).Apply(Beacons.MergePartial(), T0 + 10);

        Assert.Equal("disconnect", state.Disconnect(client, T0 + 20).Row("probe-ui-instance-1").Reason);
    }

    [Fact]
    public void Should_not_mark_a_row_that_no_connection_owns()
    {
        var state = State().Apply(Beacons.Structured(), T0);

        Assert.Same(state, state.MarkDisconnected(Key("probe-ui-instance-1"), new ConnectionId("conn-1"), "disconnect", T0 + 1));
    }
}
