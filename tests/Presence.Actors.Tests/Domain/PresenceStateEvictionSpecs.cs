using Presence.Actors.Domain;
using Xunit;
using static Presence.Actors.Tests.TestSupport.TestEntries;

namespace Presence.Actors.Tests.Domain;

/// <summary>
/// The 200-row bound under churn: which row goes when a new key arrives in a full map. The state keeps the rows in
/// eviction order between upserts instead of scanning the map for each; these are the cases that order must get
/// right (rows stamped in the same millisecond, rows written again after it was built, rows that left and came back,
/// a clock that goes back, older states still in use), and a seeded run against a plain scan of the map.
/// </summary>
public sealed class PresenceStateEvictionSpecs
{
    private static string[] Hosts(PresenceState state) => state.ToSnapshot().Entries.Skip(1).Select(entry => entry.Host!).ToArray();

    [Fact]
    public void Should_evict_rows_of_the_same_ts_in_the_order_they_were_written_and_list_the_last_written_first()
    {
        var full = State(maxEntries: 3).At("a", T0).At("b", T0);

        var once = full.At("c", T0);
        var twice = once.At("d", T0);

        Assert.Equal(["c", "b"], Hosts(once));
        Assert.Equal(["d", "c"], Hosts(twice));
    }

    [Fact]
    public void Should_evict_the_two_oldest_rows_for_two_new_keys_oldest_first()
    {
        var full = State(maxEntries: 4).At("c", T0 + 2).At("a", T0).At("b", T0 + 1);

        var next = full.At("x", T0 + 3);
        var last = next.At("y", T0 + 4);

        Assert.Equal(["x", "c", "b"], Hosts(next));
        Assert.Equal(["y", "x", "c"], Hosts(last));
    }

    [Fact]
    public void Should_skip_rows_written_again_after_the_eviction_order_was_taken()
    {
        // The first eviction takes the order (a, b, c, d); b is then renewed, so after a the oldest are c, d, then b.
        var ordered = State(maxEntries: 4).At("a", T0).At("b", T0 + 1).At("c", T0 + 2).At("d", T0 + 3);

        var renewed = ordered.At("b", T0 + 4);
        var afterE = renewed.At("e", T0 + 5);
        var afterF = afterE.At("f", T0 + 6);
        var afterG = afterF.At("g", T0 + 7);

        Assert.Equal(["d", "c", "b"], Hosts(ordered));
        Assert.Equal(["e", "b", "d"], Hosts(afterE));
        Assert.Equal(["f", "e", "b"], Hosts(afterF));
        Assert.Equal(["g", "f", "e"], Hosts(afterG));
    }

    [Fact]
    public void Should_treat_a_row_that_left_and_came_back_as_new_as_its_latest_write()
    {
        var client = Client(connection: "conn-a", instanceId: "mac-a");
        var full = State(maxEntries: 3, ttlMs: 1_000).Connect(client, T0).At("b", T0 + 1);

        // Evicted, then back: its place at the front of the order is stale, b is the oldest now.
        var evicted = full.At("c", T0 + 2);
        var back = evicted.Connect(client, T0 + 3);
        // A disconnect re-stamps the row: c, untouched since, goes before it.
        var disconnected = back.Disconnect(client, T0 + 4).At("d", T0 + 5);
        // Expired and back: the rows left by the TTL are stale entries too.
        var expiredAndBack = disconnected.Expire(T0 + 1_005).At("e", T0 + 1_006).Connect(client, T0 + 1_007).At("f", T0 + 1_008);

        Assert.Null(evicted.Find(Key("mac-a")));
        Assert.Equal(["mac-a", "c"], back.ToSnapshot().Entries.Skip(1).Select(entry => entry.InstanceId ?? entry.Host));
        Assert.Equal(["d", "mac-a"], disconnected.ToSnapshot().Entries.Skip(1).Select(entry => entry.InstanceId ?? entry.Host));
        Assert.Equal(["f", "mac-a"], expiredAndBack.ToSnapshot().Entries.Skip(1).Select(entry => entry.InstanceId ?? entry.Host));
    }

    [Fact]
    public void Should_evict_a_row_renewed_after_the_clock_went_back_before_the_newer_rows()
    {
        // The eviction for x takes the order (a, b, c, x); b is then renewed at a ts before all of them.
        var ordered = State(maxEntries: 4).At("a", T0 + 10).At("b", T0 + 20).At("c", T0 + 30).At("x", T0 + 40);

        var behind = ordered.At("b", T0 + 5);
        var next = behind.At("y", T0 + 41);
        var last = next.At("z", T0 + 6);

        Assert.Equal(["x", "c", "b"], Hosts(behind));
        Assert.Equal(["y", "x", "c"], Hosts(next));
        Assert.Equal(["y", "x", "z"], Hosts(last));
    }

    [Fact]
    public void Should_let_an_older_state_evict_from_its_own_rows_after_a_newer_one_did()
    {
        var ordered = State(maxEntries: 4).At("a", T0).At("b", T0 + 1).At("c", T0 + 2).At("d", T0 + 3);

        var one = ordered.At("x", T0 + 4);
        var other = ordered.At("y", T0 + 4);

        Assert.Equal(["x", "d", "c"], Hosts(one));
        Assert.Equal(["y", "d", "c"], Hosts(other));
    }

    /// <summary>
    /// Also the snapshot's order, which the state keeps between states rather than sorting the map: every kind of
    /// write (new rows past the bound, rows written again, a connection's renewal) and removal (expiry, a sweep), with
    /// the clock now and then going back, which loses that order until a sweep or an eviction takes it anew.
    /// </summary>
    [Fact]
    public void Should_keep_the_same_rows_as_a_scan_of_the_map_through_a_seeded_run_of_churn_expiry_and_clock_jumps()
    {
        const int bound = 8;
        const long ttl = 400;
        var random = new Random(13);
        var state = State(maxEntries: bound, ttlMs: ttl);
        var model = new Dictionary<string, (long Ts, long Written)>();
        long now = T0, writes = 0;
        for (var step = 0; step < 5_000; step++)
        {
            // Mostly forward, now and then the same millisecond, rarely back.
            now += random.Next(10) switch { 0 => -random.Next(1, 50), < 3 => 0, _ => random.Next(1, 20) };
            var key = $"k{random.Next(20):D2}";
            switch (random.Next(50))
            {
                case 0:
                    state = random.Next(2) == 0 ? state.Expire(now) : state.Sweep(now);
                    foreach (var gone in model.Where(row => row.Value.Ts < now - ttl).Select(row => row.Key).ToList())
                        model.Remove(gone);
                    break;
                case < 10 when model.ContainsKey(key):
                    state = state.Touch(Key(key), Owner(key), now);
                    model[key] = (now, ++writes);
                    break;
                default:
                    state = state.Upsert(Key(key), Update(host: key), now, Owner(key));
                    var isNew = !model.ContainsKey(key);
                    model[key] = (now, ++writes);
                    if (isNew && model.Count > bound - 1)
                        model.Remove(model.Where(row => row.Key != key).MinBy(row => row.Value).Key);
                    break;
            }

            Assert.Equal(model.OrderByDescending(row => row.Value).Select(row => row.Key), Hosts(state));
        }
    }

    [Fact]
    public void Should_list_the_rows_in_order_without_sorting_while_the_clock_only_moves_forward()
    {
        var random = new Random(7);
        var state = State(maxEntries: 8, ttlMs: 400);
        var now = T0;
        for (var step = 0; step < 2_000; step++)
        {
            now += random.Next(3);
            var key = $"k{random.Next(20):D2}";
            state = random.Next(40) switch
            {
                0 => state.Sweep(now),
                < 8 => state.Touch(Key(key), Owner(key), now),
                _ => state.Upsert(Key(key), Update(host: key), now, Owner(key)),
            };
            var listed = new PresenceRow[state.Count - 1];

            Assert.True(state.TryListLocalRows(listed), $"step {step}: the order was lost");
            var sorted = state.LocalRows.Values.ToArray();
            RowAge.SortNewestFirst(sorted);
            Assert.Equal(sorted, listed);
        }
    }

    private static ConnectionId Owner(string key) => new($"conn-{key}");
}

file static class EvictionRows
{
    /// <summary>A row whose host is its key, written at <paramref name="ts"/>.</summary>
    public static PresenceState At(this PresenceState state, string key, long ts) => state.Upsert(Key(key), Update(host: key), ts);
}
