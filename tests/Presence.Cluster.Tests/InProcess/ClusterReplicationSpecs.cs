using Akka.Actor;
using System.Collections.Immutable;
using Akka.DistributedData;
using Akka.Remote;
using Akka.Remote.Transport;
using Akka.TestKit.Xunit2;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Cluster.Tests.Support;
using Xunit;

namespace Presence.Cluster.Tests.InProcess;

/// <summary>Three in-process nodes on 127.0.0.1: replication, the merged view, TTL on it, and nodes that fail or leave.</summary>
public sealed class ClusterReplicationSpecs : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan FailureBound = TimeSpan.FromSeconds(10);

    private ImmutableArray<ClusterNode> _nodes = [];

    private ClusterNode A => _nodes[0];
    private ClusterNode B => _nodes[1];
    private ClusterNode C => _nodes[2];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
    }

    [Fact]
    public async Task Should_show_a_row_owned_by_one_node_on_every_node_and_announce_it()
    {
        _nodes = await ClusterNode.StartClusterAsync();
        var probe = CreateTestProbe(C.System);
        C.Manager.Tell(new PresenceCommands.Subscribe(probe.Ref));

        A.Upsert("Mac-1", new PresenceUpdate { Host = "mac", Mode = "ui", Reason = "connect", Text = "Node: mac" });

        foreach (var node in _nodes)
        {
            await AwaitAssertAsync(async () =>
            {
                var entries = (await node.PresenceAsync()).Entries;
                Assert.Contains(entries, e => e.Host == "mac");
                // One self row per live node, its own first.
                Assert.Equal(3, entries.Count(e => e.Reason == "self"));
                Assert.Equal($"gw-{node.Name}", entries[0].InstanceId);
            }, Convergence);
        }
        await probe.FishForMessageAsync(m => m is PresenceEvents.PresenceChanged changed && changed.Snapshot.Entries.Any(e => e.Host == "mac"), Convergence);
    }

    [Fact]
    public async Task Should_send_a_write_to_the_other_node_at_once_with_write_consistency_all_when_gossip_never_runs()
    {
        // Deltas would go out every gossip-interval / 5 and a full gossip every gossip-interval: an hour here.
        _nodes = await ClusterNode.StartClusterAsync(2, "presence.cluster.write-consistency = all\nakka.cluster.distributed-data.gossip-interval = 1h");
        Assert.Equal(TimeSpan.FromHours(1), ReplicatorSettings.Create(A.System).GossipInterval);

        A.Upsert("mac-1", new PresenceUpdate { Host = "mac", Mode = "ui", Reason = "connect", Text = "Node: mac" });

        await AwaitAssertAsync(async () => Assert.Contains((await B.PresenceAsync()).Entries, e => e.Host == "mac"), Convergence);
    }

    [Fact]
    public async Task Should_tell_which_node_owns_each_row_and_list_the_members_as_one_becomes_unreachable_and_is_removed()
    {
        _nodes = await ClusterNode.StartClusterAsync();
        var addressA = PresenceReplicatorActor.NodeAddress(A.NodeId);
        A.Upsert("Mac-1", new PresenceUpdate { InstanceId = "Mac-1", Host = "mac", Text = "Node: mac" });

        await AwaitAssertAsync(async () =>
        {
            var origins = await C.OriginsAsync();
            var row = Assert.Single(origins.Rows, r => r.InstanceId == "Mac-1");
            Assert.Equal((PresenceKey.From("mac-1"), addressA), (row.Key!.Value, row.Node));
            Assert.Equal(addressA, Assert.Single(origins.Rows, r => r.InstanceId == "gw-a").Node);
            Assert.Equal(PresenceReplicatorActor.NodeAddress(C.NodeId), origins.Rows[0].Node);
            Assert.Equal(3, origins.Nodes.Count(n => n.Status == "up" && n.Reachable));
        }, Convergence);

        await A.CrashAsync();

        // Unreachable first (its rows leave the view at once), then downed and removed from the members.
        await AwaitAssertAsync(async () =>
        {
            var origins = await C.OriginsAsync();
            Assert.DoesNotContain(origins.Rows, r => r.Node == addressA);
            Assert.False(Assert.Single(origins.Nodes, n => n.Address == addressA).Reachable);
        }, FailureBound);
        await AwaitAssertAsync(async () => Assert.Equal(2, (await C.OriginsAsync()).Nodes.Length), FailureBound);
    }

    [Fact]
    public async Task Should_merge_one_key_from_two_nodes_newest_ts_first_with_missing_fields_filled()
    {
        _nodes = await ClusterNode.StartClusterAsync();
        A.Upsert("dev-1", new PresenceUpdate { Host = "old-host", Ip = "10.0.0.1", Version = "1.0", Text = "from a" });
        await AwaitAssertAsync(async () => Assert.Contains((await B.PresenceAsync()).Entries, e => e.Text == "from a"), Convergence);

        B.Upsert("DEV-1", new PresenceUpdate { Host = "new-host", Text = "from b" });

        foreach (var node in _nodes)
        {
            await AwaitAssertAsync(async () =>
            {
                var rows = (await node.PresenceAsync()).Entries.Where(e => e.Reason != "self").ToList();
                var row = Assert.Single(rows);
                Assert.Equal(("new-host", "from b", "10.0.0.1", "1.0"), (row.Host, row.Text, row.Ip, row.Version));
            }, Convergence);
        }
    }

    [Fact]
    public async Task Should_apply_the_ttl_and_the_bound_to_the_merged_view()
    {
        _nodes = await ClusterNode.StartClusterAsync(hocon: "presence { ttl = 6s, sweep-interval = 1s, max-entries = 6 }");
        for (var i = 0; i < 3; i++)
        {
            A.Upsert($"a-{i}", new PresenceUpdate { Text = $"a-{i}" });
            B.Upsert($"b-{i}", new PresenceUpdate { Text = $"b-{i}" });
        }

        // 3 self rows + 6 rows from two nodes, bounded to 6: the three oldest others go, every self row stays.
        await AwaitAssertAsync(async () =>
        {
            var entries = (await C.PresenceAsync()).Entries;
            Assert.Equal(6, entries.Length);
            Assert.Equal(3, entries.Count(e => e.Reason == "self"));
        }, Convergence);

        // Nobody refreshes the rows: past the TTL they leave every node's view, the live self rows stay.
        await AwaitAssertAsync(async () =>
        {
            var entries = (await C.PresenceAsync()).Entries;
            Assert.Equal(3, entries.Length);
            Assert.All(entries, e => Assert.Equal("self", e.Reason));
        }, TimeSpan.FromSeconds(12));
    }

    [Fact]
    public async Task Should_drop_a_crashed_nodes_rows_within_the_bound_and_clear_its_key_once_downed()
    {
        _nodes = await ClusterNode.StartClusterAsync();
        C.Upsert("on-c", new PresenceUpdate { Text = "owned by c" });
        await AwaitAssertAsync(async () => Assert.Contains((await A.PresenceAsync()).Entries, e => e.Text == "owned by c"), Convergence);
        var cKey = PresenceReplicatorActor.KeyOf(C.Cluster.SelfUniqueAddress);
        var cId = C.NodeId;

        var crashedAt = DateTime.UtcNow;
        await C.CrashAsync();

        await AwaitAssertAsync(async () =>
        {
            var entries = (await A.PresenceAsync()).Entries;
            Assert.DoesNotContain(entries, e => e.Text == "owned by c");
            Assert.DoesNotContain(entries, e => e.InstanceId == "gw-c");
        }, FailureBound);
        Assert.True(DateTime.UtcNow - crashedAt < FailureBound);

        // Keep-majority downs c; the oldest survivor (a) then clears, not deletes, c's key.
        await AwaitAssertAsync(async () =>
        {
            var got = await DistributedData.Get(B.System).Replicator.Ask<IGetResponse>(Dsl.Get(cKey, ReadLocal.Instance), TimeSpan.FromSeconds(3));
            var data = Assert.IsType<GetSuccess>(got).Get(cKey);
            Assert.True(data.IsEmpty, $"{cId}'s key still holds {data.Count} rows");
        }, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Should_hide_an_unreachable_nodes_rows_and_show_them_again_when_it_returns()
    {
        // The throttler adapter lets a spec cut the network between nodes; downing is pushed out of the way.
        _nodes = await ClusterNode.StartClusterAsync(hocon: """
            akka.remote.dot-netty.tcp.applied-adapters = [trttl]
            akka.cluster.split-brain-resolver.stable-after = 60s
            """);
        C.Upsert("on-c", new PresenceUpdate { Text = "owned by c" });
        await AwaitAssertAsync(async () => Assert.Contains((await A.PresenceAsync()).Entries, e => e.Text == "owned by c"), Convergence);

        await Blackhole(C, A, B);
        await AwaitAssertAsync(async () => Assert.DoesNotContain((await A.PresenceAsync()).Entries, e => e.Text == "owned by c"), FailureBound);

        await Blackhole(C, A, B, restore: true);
        await AwaitAssertAsync(async () =>
        {
            var entries = (await A.PresenceAsync()).Entries;
            Assert.Contains(entries, e => e.Text == "owned by c");
            Assert.Contains(entries, e => e.InstanceId == "gw-c");
        }, FailureBound);
    }

    /// <summary>Drops (or lets through again) all traffic between <paramref name="node"/> and the two others, both ways.</summary>
    private static async Task Blackhole(ClusterNode node, ClusterNode first, ClusterNode second, bool restore = false)
    {
        ThrottleMode mode = restore ? Unthrottled.Instance : Akka.Remote.Transport.Blackhole.Instance;
        foreach (var other in new[] { first, second })
        {
            await TransportOf(node).ManagementCommand(new SetThrottle(other.Cluster.SelfAddress, ThrottleTransportAdapter.Direction.Both, mode));
            await TransportOf(other).ManagementCommand(new SetThrottle(node.Cluster.SelfAddress, ThrottleTransportAdapter.Direction.Both, mode));
        }
    }

    private static RemoteTransport TransportOf(ClusterNode node) => ((IRemoteActorRefProvider)((ExtendedActorSystem)node.System).Provider).Transport;

    [Fact]
    public async Task Should_keep_a_gracefully_leaving_nodes_rows_as_disconnected()
    {
        _nodes = await ClusterNode.StartClusterAsync();
        C.Upsert("on-c", new PresenceUpdate { Text = "owned by c", Reason = "connect" });
        await AwaitAssertAsync(async () => Assert.Contains((await A.PresenceAsync()).Entries, e => e.Text == "owned by c"), Convergence);

        await C.LeaveAsync();

        await AwaitAssertAsync(async () =>
        {
            var entries = (await A.PresenceAsync()).Entries;
            Assert.DoesNotContain(entries, e => e.InstanceId == "gw-c");
            Assert.Equal("disconnect", Assert.Single(entries, e => e.Text == "owned by c").Reason);
        }, FailureBound);
    }
}
