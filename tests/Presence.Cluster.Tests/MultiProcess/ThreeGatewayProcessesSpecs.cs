using System.Diagnostics;
using System.Text.Json.Nodes;
using Presence.Cluster.Tests.Support;
using static Presence.Cluster.Tests.Support.GatewayCluster;
using Xunit;
using Xunit.Abstractions;

namespace Presence.Cluster.Tests.MultiProcess;

/// <summary>
/// Three gateway processes on 127.0.0.1 started with README's command: a client on node A is seen through
/// node C (system-presence and a presence event), and leaves C's view within the failure bound once A is SIGKILLed.
/// </summary>
public sealed class ThreeGatewayProcessesSpecs(ITestOutputHelper output) : IDisposable
{
    private GatewayCluster? _cluster;

    [Fact]
    public async Task Should_show_a_client_of_node_a_on_node_c_and_drop_it_within_the_bound_after_a_is_killed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, _, c) = await StartAsync(timeout.Token);
        await using var observer = await WsClient.ConnectAsync(c.Url, "observer-on-c", timeout.Token);

        await using var client = await WsClient.ConnectAsync(a.Url, "Client-On-A", timeout.Token);

        var seen = await NextPresenceAsync(observer, list => HasInstance(list, "Client-On-A"), TimeSpan.FromSeconds(5), timeout.Token);
        Assert.True(HasInstance(seen.Presence, "Client-On-A"));
        Assert.True(HasInstance(await observer.SystemPresenceAsync(timeout.Token), "Client-On-A"));

        // Operators see the membership on /metrics: three up, none unreachable, and then A unreachable.
        // C can hold A's rows (DData) a moment before its own membership view shows all three Up.
        await MetricSettlesAsync(c, 3, "presence_cluster_members", "status=\"up\"");
        Assert.Equal(0, await MetricAsync(c, "presence_cluster_unreachable"));

        var killedAt = Stopwatch.StartNew();
        a.Kill();
        var gone = await NextPresenceAsync(observer, list => !HasInstance(list, "Client-On-A") && SelfRows(list) == 2, FailureBound, timeout.Token);
        output.WriteLine($"node A's rows left node C's view {killedAt.Elapsed.TotalSeconds:0.0} s after SIGKILL");
        // The rows leave when A turns unreachable, and it stays so until the Split Brain Resolver downs it (stable-after 7 s).
        Assert.Equal(1, await MetricAsync(c, "presence_cluster_unreachable"));
        Assert.False(HasInstance(await observer.SystemPresenceAsync(timeout.Token), "Client-On-A"));
        Assert.True(killedAt.Elapsed < FailureBound + TimeSpan.FromSeconds(1), $"took {killedAt.Elapsed}");
        Assert.Equal(2, SelfRows(gone.Presence));
    }

    /// <summary>
    /// Measures README's figures: cross-node convergence latency (beacon on A → presence event on C) over 100
    /// changes, and the time from SIGKILL of A to its rows leaving C's view. A measurement, not a check, so
    /// <c>tests/run.sh</c> leaves it out (<c>Category!=Measurement</c>); run it with
    /// <c>dotnet test tests/Presence.Cluster.Tests -c Release --filter Category=Measurement --logger "console;verbosity=detailed"</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Measurement")]
    public async Task Measure_convergence_latency_and_failure_detection()
    {
        const int Changes = 100;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (a, _, c) = await StartAsync(timeout.Token);
        await using var observer = await WsClient.ConnectAsync(c.Url, "observer-on-c", timeout.Token);
        await using var client = await WsClient.ConnectAsync(a.Url, "measured", timeout.Token);
        await NextPresenceAsync(observer, list => HasInstance(list, "measured"), TimeSpan.FromSeconds(5), timeout.Token);

        var latencies = new List<double>();
        for (var i = 0; i < Changes; i++)
        {
            var text = $"Node: measured · change {i}";
            var sent = DateTime.UtcNow;
            await client.SystemEventAsync(text, "measured", timeout.Token);
            var arrived = await NextPresenceAsync(observer, list => list.Any(e => (string?)e?["text"] == text), TimeSpan.FromSeconds(5), timeout.Token);
            latencies.Add((arrived.At - sent).TotalMilliseconds);
        }
        latencies.Sort();
        var killedAt = Stopwatch.StartNew();
        a.Kill();
        await NextPresenceAsync(observer, list => !HasInstance(list, "measured"), TimeSpan.FromSeconds(30), timeout.Token);
        var detection = killedAt.Elapsed;

        output.WriteLine($"convergence over {Changes} changes: p50 {Percentile(latencies, 0.50):0} ms, p99 {Percentile(latencies, 0.99):0} ms, max {latencies[^1]:0} ms");
        output.WriteLine($"node failure: rows gone from the other nodes' view {detection.TotalSeconds:0.0} s after SIGKILL");
        Assert.True(Percentile(latencies, 0.99) < 1000, "p99 convergence must stay under 1 s");
        Assert.True(detection < FailureBound, $"failure detection took {detection}");
    }

    public void Dispose() => _cluster?.Dispose();

    /// <summary>Reads a metric of another process (no probe reaches into it) until it shows <paramref name="expected"/>, for at most 10 s.</summary>
    private static async Task MetricSettlesAsync(GatewayProcess node, double expected, string name, string label = "")
    {
        var deadline = Stopwatch.StartNew();
        var last = await MetricAsync(node, name, label);
        while (last != expected && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
            last = await MetricAsync(node, name, label);
        }
        Assert.Equal(expected, last);
    }

    /// <summary>The value of one series of a node's Prometheus scrape, the one whose labels contain <paramref name="label"/>.</summary>
    private static async Task<double> MetricAsync(GatewayProcess node, string name, string label = "")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var scrape = await http.GetStringAsync(new Uri($"{node.HttpUrl}/metrics"));
        var line = scrape.Split('\n').Single(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<(GatewayProcess A, GatewayProcess B, GatewayProcess C)> StartAsync(CancellationToken cancellationToken)
    {
        _cluster = await GatewayCluster.StartAsync(cancellationToken, "a", "b", "c");
        return (_cluster.Nodes[0], _cluster.Nodes[1], _cluster.Nodes[2]);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
