using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static Presence.Actors.PresenceManager.PresenceCommands;
using static Presence.Actors.PresenceManager.PresenceEvents;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Actors.Tests.PresenceManager;

/// <summary>In a collection that runs alone: the instrument specs read process-wide counters that other managers would move.</summary>
[Collection(nameof(ProcessWideInstruments))]
public sealed class PresenceManagerActorSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestScheduler, output: output)
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private long NowMs => Clock.Now.ToUnixTimeMilliseconds();

    /// <summary>Starts a manager and waits until it runs, so that its sweep timer counts from the current virtual time.</summary>
    private async Task<IActorRef> StartManager(string hocon = "", TestProbe? subscriber = null)
    {
        var manager = Sys.ActorOf(PresenceManagerActor.Props(TestConfigs.Settings(hocon), TestEntries.Self()));
        if (subscriber is not null)
            manager.Tell(new Subscribe(subscriber.Ref));
        await ReadAsync(manager);
        return manager;
    }

    private static async Task<PresenceSnapshot> ReadAsync(IActorRef manager) =>
        (await manager.Ask<GetPresenceResponse>(GetPresence.Instance, TimeSpan.FromSeconds(3))).Snapshot;

    private static Upsert Beacon(Beacon beacon)
    {
        var (key, update) = beacon.Resolve();
        return new Upsert(key, update);
    }

    private static Upsert Connect(ConnectedClient client) => new(client.Key, client.ToUpdate(), client.Connection);

    private static Upsert Row(string key) => Beacon(Beacons.Text(key) with { InstanceId = key });

    /// <summary>
    /// The next announcement with <paramref name="entries"/> rows. Renewal announcements (once a minute of quiet) may come
    /// first, and the change may wait out the announcement stream's silence after the last of them, which only virtual
    /// time ends: the clock moves on by one broadcast interval (100 ms by default) whenever nothing arrives.
    /// </summary>
    private async Task<PresenceChanged> AnnouncedWithAsync(TestProbe subscriber, int entries)
    {
        for (var silences = 0; silences < 20;)
        {
            switch (await subscriber.ReceiveOneAsync(TimeSpan.FromMilliseconds(300)))
            {
                case PresenceChanged changed when changed.Snapshot.Entries.Length == entries:
                    return changed;
                case null:
                    Advance(TimeSpan.FromMilliseconds(100));
                    silences++;
                    break;
            }
        }
        throw new Xunit.Sdk.XunitException($"no announcement with {entries} rows after 20 broadcast intervals of virtual time");
    }

    private void Advance(TimeSpan step, int times = 1)
    {
        for (var i = 0; i < times; i++)
            Clock.Advance(step);
    }

    [Fact]
    public async Task Should_answer_where_rows_come_from_as_one_node_named_after_its_host_until_a_replicator_names_it()
    {
        var manager = await StartManager();
        manager.Tell(Row("Beacon-1"));

        var alone = await manager.Ask<GetPresenceOriginsResponse>(GetPresenceOrigins.Instance, TimeSpan.FromSeconds(3));

        Assert.Equal(new PresenceKey?[] { null, PresenceKey.From("beacon-1") }, alone.Rows.Select(row => row.Key));
        Assert.All(alone.Rows, row => Assert.Equal("gw-host", row.Node));
        Assert.Equal(new PresenceNode("gw-host", "up", true), Assert.Single(alone.Nodes));

        var replicator = CreateTestProbe();
        manager.Tell(new Presence.Actors.Cluster.ReplicationProtocol.WatchLocalRows(replicator.Ref, "127.0.0.1:4053"));
        manager.Tell(new Presence.Actors.Cluster.ReplicationProtocol.MembersChanged([new PresenceNode("127.0.0.1:4053", "up", true), new PresenceNode("127.0.0.1:4054", "up", false)]));

        var clustered = await manager.Ask<GetPresenceOriginsResponse>(GetPresenceOrigins.Instance, TimeSpan.FromSeconds(3));

        Assert.All(clustered.Rows, row => Assert.Equal("127.0.0.1:4053", row.Node));
        Assert.Equal(["127.0.0.1:4053", "127.0.0.1:4054"], clustered.Nodes.Select(node => node.Address));
        Assert.False(clustered.Nodes[1].Reachable);
    }

    [Fact]
    public async Task Should_hold_the_self_row_before_any_client_connects()
    {
        var manager = await StartManager();

        var snapshot = await ReadAsync(manager);

        var self = Assert.Single(snapshot.Entries);
        Assert.Equal((TestEntries.SelfInstanceId, "gateway", "self"), (self.InstanceId, self.Mode, self.Reason));
        // The manager stamps its own clock on the self row, not whatever the caller passed.
        Assert.Equal(NowMs, self.Ts);
    }

    [Fact]
    public async Task Should_answer_a_query_with_a_snapshot_of_the_rows()
    {
        var manager = await StartManager();
        manager.Tell(Beacon(Beacons.Text(Beacons.NodeText)));

        var probe = CreateTestProbe();
        manager.Tell(GetPresence.Instance, probe.Ref);
        var response = await probe.ExpectMsgAsync<GetPresenceResponse>();

        Assert.Equal(["gw-host", "nodehost"], response.Snapshot.Entries.Select(entry => entry.Host));
        Assert.Equal(NowMs, response.Snapshot.Entries[1].Ts);
    }

    [Fact]
    public async Task Should_never_expire_the_self_row_however_many_sweeps_run()
    {
        var subscriber = CreateTestProbe();
        var manager = await StartManager("presence { ttl = 10s, sweep-interval = 5s, renewal-broadcast-interval = 60s }", subscriber);
        var before = await ReadAsync(manager);

        var after = before;
        for (var sweep = 0; sweep < 200; sweep++)
        {
            Advance(TimeSpan.FromSeconds(5));
            // Each sweep is handled at its own virtual time before the clock moves on.
            after = await ReadAsync(manager);
        }

        var self = Assert.Single(after.Entries);
        Assert.Equal(NowMs, self.Ts);
        // Refreshing the self row is announced only once per renewal interval of quiet: at 60 s, 120 s … 960 s.
        Assert.Equal(before.StateVersion + 16, after.StateVersion);
    }

    [Fact]
    public async Task Should_announce_a_pinged_connection_and_the_self_row_after_a_minute_of_quiet_so_readers_never_see_them_age_past_active()
    {
        var subscriber = CreateTestProbe();
        var manager = await StartManager("presence { sweep-interval = 5s, renewal-broadcast-interval = 60s }", subscriber);
        var client = TestEntries.Client(instanceId: "mac-app");
        manager.Tell(Connect(client));
        var connected = await subscriber.ExpectMsgAsync<PresenceChanged>();
        var start = NowMs;

        // Pongs every 25 s renew the row silently; the sweeps up to 55 s pass without a word to readers.
        for (var second = 5; second <= 55; second += 5)
        {
            Advance(TimeSpan.FromSeconds(5));
            if (second % 25 == 0)
                manager.Tell(new Touch(client.Key, client.Connection));
            // Handled in order before the answer, so an announcement would already be with the subscriber.
            await ReadAsync(manager);
            Assert.False(subscriber.HasMessages, $"announced at {second} s");
        }
        Advance(TimeSpan.FromSeconds(5));
        var renewed = await subscriber.ExpectMsgAsync<PresenceChanged>();

        // Readers saw the live row 60 s old at most, never near the 120 s where it turns Idle, and now see it 10 s old.
        Assert.Equal(connected.Snapshot.StateVersion + 1, renewed.Snapshot.StateVersion);
        Assert.Equal(start + 50_000, renewed.Snapshot.Entries.Single(entry => entry.InstanceId == "mac-app").Ts);
        Assert.Equal(start + 60_000, renewed.Snapshot.Entries[0].Ts);
    }

    [Fact]
    public async Task Should_never_return_an_expired_row_between_sweeps()
    {
        var subscriber = CreateTestProbe();
        // The longest sweep the settings allow: half the TTL.
        var manager = await StartManager("presence { ttl = 4m, sweep-interval = 2m }", subscriber);
        Advance(TimeSpan.FromMinutes(1));
        manager.Tell(Row("mac-app-1"));
        await subscriber.ExpectMsgAsync<PresenceChanged>();

        Advance(TimeSpan.FromMinutes(1));
        Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, (await ReadAsync(manager)).Entries.Length);

        // 4m30s after the upsert, 30s after the last sweep and 90s before the next one.
        Advance(TimeSpan.FromSeconds(90));
        var read = await ReadAsync(manager);

        Assert.Single(read.Entries);
        // Renewal announcements of the sweeps may come first; the expiry is told with the version the read saw.
        var told = await AnnouncedWithAsync(subscriber, entries: 1);
        Assert.Equal(read.StateVersion, told.Snapshot.StateVersion);
    }

    [Fact]
    public async Task Should_raise_the_state_version_with_every_visible_change()
    {
        var subscriber = CreateTestProbe();
        var manager = await StartManager("presence { ttl = 10s, sweep-interval = 5s, broadcast-interval = 100ms }", subscriber);
        var client = TestEntries.Client(instanceId: Beacons.MergePartial().InstanceId);
        var versions = new List<long> { (await ReadAsync(manager)).StateVersion };

        async Task Step(object command)
        {
            manager.Tell(command);
            var changed = await subscriber.ExpectMsgAsync<PresenceChanged>();
            versions.Add(changed.Snapshot.StateVersion);
            Advance(Second);
        }

        await Step(Connect(client));
        await Step(Beacon(Beacons.MergePartial()));
        await Step(new MarkDisconnected(client.Key, client.Connection, client.DisconnectReason));
        manager.Tell(new Touch(client.Key, client.Connection));
        // The read makes sure the touch lands before the clock moves; neither of them is a change to announce.
        Assert.Equal(versions[^1], (await ReadAsync(manager)).StateVersion);
        Advance(TimeSpan.FromSeconds(5), times: 3);
        var expired = await subscriber.ExpectMsgAsync<PresenceChanged>();
        versions.Add(expired.Snapshot.StateVersion);

        Assert.Single(expired.Snapshot.Entries);
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
        Assert.Equal(versions[^1], (await ReadAsync(manager)).StateVersion);
    }

    [Fact]
    public async Task Should_coalesce_a_burst_of_10000_upserts_into_a_few_notifications_ending_with_the_latest_list()
    {
        const int burst = 10_000;
        var subscriber = CreateTestProbe();
        var manager = await StartManager("presence.broadcast-interval = 100ms", subscriber);

        for (var i = 0; i < burst; i++)
            manager.Tell(Beacon(Beacons.Text($"burst {i}") with { InstanceId = $"client-{i % 50}", LastInputSeconds = i }));
        // The first change goes out at once, and its interval runs from then: the clock must not move before it has.
        var received = new List<PresenceChanged> { await subscriber.ExpectMsgAsync<PresenceChanged>() };
        var final = await ReadAsync(manager);
        Advance(TimeSpan.FromMilliseconds(100));

        while (received[^1].Snapshot.StateVersion != final.StateVersion)
            received.Add(await subscriber.ExpectMsgAsync<PresenceChanged>());
        Advance(TimeSpan.FromMilliseconds(100), times: 5);
        await subscriber.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        Assert.InRange(received.Count, 1, 5);
        var last = received[^1].Snapshot;
        Assert.Equal(51, last.Entries.Length);
        Assert.Equal(burst - 1, last.Entries.Single(entry => entry.InstanceId == "client-49").LastInputSeconds);
        Assert.Equal(final.Json.ToArray(), last.Json.ToArray());
    }

    [Fact]
    public async Task Should_tell_an_isolated_change_at_once()
    {
        var subscriber = CreateTestProbe();
        var manager = await StartManager("presence.broadcast-interval = 100ms", subscriber);

        // The clock stands still: a notification that waited for a flush timer would never come.
        manager.Tell(Row("first"));
        var first = await subscriber.ExpectMsgAsync<PresenceChanged>();

        Advance(Second);
        manager.Tell(Row("second"));
        var second = await subscriber.ExpectMsgAsync<PresenceChanged>();

        Assert.Equal(2, first.Snapshot.Entries.Length);
        Assert.Equal(3, second.Snapshot.Entries.Length);
    }

    [Fact]
    public async Task Should_tell_every_subscriber_until_it_unsubscribes()
    {
        var staying = CreateTestProbe();
        var leaving = CreateTestProbe();
        var manager = await StartManager("presence.broadcast-interval = 100ms", staying);
        manager.Tell(new Subscribe(leaving.Ref));

        manager.Tell(Row("first"));
        await staying.ExpectMsgAsync<PresenceChanged>();
        await leaving.ExpectMsgAsync<PresenceChanged>();

        manager.Tell(new Unsubscribe(leaving.Ref));
        Advance(Second);
        manager.Tell(Row("second"));

        Assert.Equal(3, (await staying.ExpectMsgAsync<PresenceChanged>()).Snapshot.Entries.Length);
        await leaving.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Should_forget_a_subscriber_that_stops()
    {
        var subscriber = CreateTestProbe();
        var witness = CreateTestProbe();
        var manager = await StartManager("presence.broadcast-interval = 100ms", subscriber);
        manager.Tell(new Subscribe(witness.Ref));
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe(deadLetters.Ref, typeof(DeadLetter));
        manager.Tell(Row("before-stop"));
        await subscriber.ExpectMsgAsync<PresenceChanged>();
        await witness.ExpectMsgAsync<PresenceChanged>();

        Watch(subscriber.Ref);
        Sys.Stop(subscriber.Ref);
        await ExpectTerminatedAsync(subscriber.Ref);

        // The manager hears of the stop asynchronously; once it has, a change no longer goes to dead letters.
        var attempt = 0;
        await AwaitAssertAsync(async () =>
        {
            Advance(Second);
            manager.Tell(Row($"after-stop-{attempt++}"));
            // The manager tells an announcement to every subscriber in one go, and dead letters are published as it
            // tells them: once the witness has it and the manager has answered a read after that, they are all in.
            await witness.ExpectMsgAsync<PresenceChanged>();
            await ReadAsync(manager);
            var undelivered = new List<object>();
            while (deadLetters.HasMessages)
                undelivered.Add(await deadLetters.ReceiveOneAsync(TimeSpan.FromSeconds(1)));
            Assert.DoesNotContain(undelivered, letter => letter is DeadLetter { Message: PresenceChanged });
        });
    }

    [Fact]
    public async Task Should_not_crash_when_the_bound_leaves_room_for_the_self_row_only()
    {
        var manager = await StartManager("presence.max-entries = 1");
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors.Ref, typeof(Error));

        manager.Tell(Row("no-room"));
        var read = await ReadAsync(manager);

        Assert.Equal(TestEntries.SelfInstanceId, Assert.Single(read.Entries).InstanceId);
        // A crash would go unseen in the list (the restarted manager holds the self row only too), but its supervisor logs it before the read is answered.
        Assert.False(errors.HasMessages);
    }

    [Fact]
    public async Task Should_count_rows_changes_evictions_and_sweep_removals_exactly()
    {
        using var instruments = new InstrumentRecorder(PresenceInstruments.MeterName);
        var manager = await StartManager("presence { ttl = 10s, sweep-interval = 5s, max-entries = 3 }");
        var (rows, changes, expired, evicted) = Read(instruments);

        manager.Tell(Row("first"));
        Advance(Second);
        manager.Tell(Row("second"));
        Advance(Second);
        // The bound is the self row plus two: the third key takes the oldest row's place.
        manager.Tell(Row("third"));
        await ReadAsync(manager);
        Assert.Equal((rows + 2, changes + 3, expired, evicted + 1), Read(instruments));

        // 12 s after "second": both client rows are past the 10 s TTL at the sweep of 15 s, which removes them at once.
        Advance(TimeSpan.FromSeconds(5), times: 3);
        Assert.Single((await ReadAsync(manager)).Entries);

        Assert.Equal((rows, changes + 4, expired + 2, evicted + 1), Read(instruments));
    }

    private static (long Rows, long Changes, long Expired, long Evicted) Read(InstrumentRecorder instruments) =>
        (instruments.Observe("presence.rows"), instruments.Observe("presence.changes"),
            instruments.Observe("presence.removals", "expired"), instruments.Observe("presence.removals", "evicted"));
}

[CollectionDefinition(nameof(ProcessWideInstruments), DisableParallelization = true)]
public sealed class ProcessWideInstruments;
