using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Presence.Cluster.Tests.Support;
using Presence.Gateway;
using Xunit;
using Xunit.Abstractions;
using static Presence.Cluster.Tests.Support.GatewayCluster;

namespace Presence.Cluster.Tests.InProcess;

/// <summary>
/// Issue 14, item 4: a network partition and its heal, with the shipped failure detector and Split Brain Resolver
/// (keep-majority, stable-after 7 s). Three gateways in this process on loopback; Akka.Remote's throttler transport
/// adapter (<c>trttl</c>) blackholes all traffic between C and the others, both ways. The majority keeps serving and
/// drops C's rows; C downs itself and tells its clients <c>shutdown</c> with close 1012; C started again rejoins and
/// its client's row returns. The throttler, not network namespaces: it cuts exactly one node's cluster links, runs
/// unprivileged on 127.0.0.1, and leaves the WebSocket ports (clients) untouched, which is the partition to test.
/// </summary>
public sealed class PartitionSpecs(ITestOutputHelper output) : IAsyncDisposable
{
    /// <summary>Failure detection (4-6 s) + stable-after (7 s) + downing and shutdown, with room for two busy cores.</summary>
    private static readonly TimeSpan DownBound = TimeSpan.FromSeconds(40);

    private readonly List<WebApplication> _gateways = [];

    [Fact]
    public async Task Should_keep_the_majority_serving_and_down_the_cut_off_node_which_closes_its_clients_with_1012()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var clusterPorts = Enumerable.Range(0, 3).Select(_ => GatewayProcess.FreePort()).ToArray();
        var (a, b, c) = (await StartAsync(clusterPorts[0], clusterPorts), await StartAsync(clusterPorts[1], clusterPorts), await StartAsync(clusterPorts[2], clusterPorts));
        await using var observerOnA = await WsClient.ConnectAsync(Url(a), "operator-on-a", timeout.Token);
        await using var clientOnB = await WsClient.ConnectAsync(Url(b), "client-on-b", timeout.Token);
        var clientOnC = await WsClient.ConnectAsync(Url(c), "client-on-c", timeout.Token);
        await NextPresenceAsync(observerOnA, list => SelfRows(list) == 3 && HasInstance(list, "client-on-c") && HasInstance(list, "client-on-b"), TimeSpan.FromSeconds(60), timeout.Token);

        var cut = Stopwatch.StartNew();
        await PartitionAsync(c, [a, b], Blackhole.Instance);
        var dropped = await NextPresenceAsync(observerOnA, list => !HasInstance(list, "client-on-c"), DownBound, timeout.Token);
        var rowsGone = cut.Elapsed;
        Assert.True(HasInstance(dropped.Presence, "client-on-b"), "the majority lost its own client's row");

        await clientOnC.Closed.WaitAsync(DownBound, timeout.Token);
        var closed = cut.Elapsed;
        Assert.Equal((WebSocketCloseStatus)1012, clientOnC.CloseStatus);
        Assert.True(clientOnC.HeardShutdown, "C closed its client without the shutdown notice");
        await System(c).WhenTerminated.WaitAsync(DownBound, timeout.Token);
        var cluster = Akka.Cluster.Cluster.Get(System(a));
        await UntilAsync(() => cluster.State.Members.Count == 2 && cluster.State.Unreachable.Count == 0, DownBound, timeout.Token);
        var removed = cut.Elapsed;

        // The majority still serves: a beacon answered, the list read, both remaining nodes' rows in it.
        Assert.True((await clientOnB.SystemEventAsync("Node: client-on-b · during the partition", "client-on-b", timeout.Token))["ok"]!.GetValue<bool>());
        var during = await observerOnA.SystemPresenceAsync(timeout.Token);
        Assert.Equal(2, SelfRows(during));
        Assert.False(HasInstance(during, "client-on-c"));

        // Heal: the majority's links open again, C is started again (as its orchestrator would) and its client reconnects.
        await PartitionAsync(c, [a, b], Unthrottled.Instance);
        var cAgain = await StartAsync(clusterPorts[2], clusterPorts);
        await using var clientBack = await WsClient.ConnectAsync(Url(cAgain), "client-on-c", timeout.Token);
        var back = await NextPresenceAsync(observerOnA, list => HasInstance(list, "client-on-c") && SelfRows(list) == 3, TimeSpan.FromSeconds(60), timeout.Token);
        var returned = cut.Elapsed;
        Assert.Single(back.Presence, e => (string?)e?["instanceId"] == "client-on-c");

        output.WriteLine($"partition timeline from the cut: C's rows gone from A's view {rowsGone.TotalSeconds:0.0} s; C's client closed 1012 after shutdown {closed.TotalSeconds:0.0} s; " +
            $"C removed from A's membership {removed.TotalSeconds:0.0} s; healed and C restarted, its client's row back on A {returned.TotalSeconds:0.0} s");
        await clientOnC.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
    }

    private async Task<WebApplication> StartAsync(int clusterPort, int[] clusterPorts)
    {
        var args = new List<string> { "--port", "0", "--cluster", "--cluster-port", clusterPort.ToString(CultureInfo.InvariantCulture) };
        // Seeds as full addresses of the throttler's protocol, so that every link between nodes goes through it.
        foreach (var port in clusterPorts)
            args.AddRange(["--seed", $"akka.trttl.tcp://{GatewayApp.SystemName}@127.0.0.1:{port}"]);
        var app = GatewayApp.Build(args, ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.applied-adapters = [trttl]"));
        _gateways.Add(app);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return app;
    }

    private static string Url(WebApplication gateway) => GatewayApp.ListeningUrl(gateway).TrimEnd('/') + "/";

    private static ActorSystem System(WebApplication gateway) => gateway.Services.GetRequiredService<ActorSystem>();

    /// <summary>Sets <paramref name="mode"/> on every link between <paramref name="node"/> and <paramref name="others"/>, both ways, on the live side(s).</summary>
    private static async Task PartitionAsync(WebApplication node, WebApplication[] others, ThrottleMode mode)
    {
        var nodeAddress = Akka.Cluster.Cluster.Get(System(node)).SelfAddress;
        foreach (var other in others)
        {
            var otherAddress = Akka.Cluster.Cluster.Get(System(other)).SelfAddress;
            if (!System(node).WhenTerminated.IsCompleted)
                await TransportOf(node).ManagementCommand(new SetThrottle(otherAddress, ThrottleTransportAdapter.Direction.Both, mode));
            await TransportOf(other).ManagementCommand(new SetThrottle(nodeAddress, ThrottleTransportAdapter.Direction.Both, mode));
        }
    }

    private static RemoteTransport TransportOf(WebApplication gateway) => ((IRemoteActorRefProvider)((ExtendedActorSystem)System(gateway)).Provider).Transport;

    private static async Task UntilAsync(Func<bool> condition, TimeSpan within, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < within, $"not within {within.TotalSeconds:0} s");
            await Task.Delay(100, cancellationToken);
        }
    }
}
