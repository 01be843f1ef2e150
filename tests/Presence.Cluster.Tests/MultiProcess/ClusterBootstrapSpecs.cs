using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Cluster;
using Presence.Cluster.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Presence.Cluster.Tests.MultiProcess;

/// <summary>
/// Issue 14, item 1: gateways that are given no seeds find each other by config discovery and Cluster Bootstrap.
/// Three processes started in the same second form exactly one cluster, never two; a node whose required peers are
/// missing forms none, and says why in its log and in <c>/readyz</c>.
/// </summary>
public sealed class ClusterBootstrapSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Names = ["a", "b", "c"];

    /// <summary>Process start, the bootstrap's stable-margin (5 s), probing and joining, on two cores shared with other builds.</summary>
    private static readonly TimeSpan FormingBound = TimeSpan.FromSeconds(120);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private List<GatewayProcess> _nodes = [];

    [Fact]
    public async Task Should_form_one_cluster_when_three_nodes_start_in_the_same_second()
    {
        var formedIn = await ColdStartAsync();

        output.WriteLine($"one cluster of 3 after {formedIn.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// The issue's ten cold starts; each must end in one cluster of three. A recorded run (docs/reliability.md,
    /// "Cluster Bootstrap"), left out of tests/run.sh for its length; run it with
    /// <c>dotnet test tests/Presence.Cluster.Tests -c Release --filter "FullyQualifiedName~ClusterBootstrapSpecs&amp;Category=Measurement" --logger "console;verbosity=detailed"</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Measurement")]
    public async Task Measure_ten_cold_starts_of_three_nodes()
    {
        var times = new List<double>();
        for (var run = 1; run <= 10; run++)
        {
            var formedIn = await ColdStartAsync();
            times.Add(formedIn.TotalSeconds);
            output.WriteLine($"cold start {run}: one cluster of 3 after {formedIn.TotalSeconds:0.0} s");
            DisposeNodes();
        }
        output.WriteLine($"10 of 10 cold starts formed one cluster; time to form: min {times.Min():0.0} s, max {times.Max():0.0} s");
    }

    [Fact]
    public async Task Should_form_no_cluster_and_say_why_while_a_required_peer_is_missing()
    {
        _nodes = [.. GatewayProcess.StartBootstrapCluster(Names, running: 1)];
        var lone = _nodes[0];
        // The join decider's own account of a decision it made: one peer (itself) of the three required answered, so
        // it keeps probing instead of forming a cluster.
        var decided = lone.OutputLineAsync("confirmed [1], which is less than the required [3]");
        await decided.WaitAsync(FormingBound);

        using var ready = await _http.GetAsync($"{lone.HttpUrl}/readyz");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var bootstrap = (string?)JsonNode.Parse(body)?["checks"]?["cluster-bootstrap"]?["description"];
        Assert.NotNull(bootstrap);
        Assert.Contains("not joined yet", bootstrap, StringComparison.Ordinal);
        Assert.Contains("found 3 of 3", bootstrap, StringComparison.Ordinal);
        Assert.Empty(await MembersAsync(lone));
        output.WriteLine(bootstrap);
    }

    public void Dispose()
    {
        DisposeNodes();
        _http.Dispose();
    }

    /// <summary>
    /// Starts three nodes at once and polls every node's <c>/bootstrap/seed-nodes</c> until all three list the same three
    /// members as up. At every poll no two nodes may be in disjoint clusters: that would be the split cold start.
    /// </summary>
    private async Task<TimeSpan> ColdStartAsync()
    {
        var started = Stopwatch.StartNew();
        _nodes = [.. GatewayProcess.StartBootstrapCluster(Names)];
        while (true)
        {
            var views = new List<HashSet<string>>();
            foreach (var node in _nodes)
            {
                Assert.False(node.HasExited, $"gateway {node.Name} exited:\n{node.Output}");
                views.Add(await MembersAsync(node));
            }
            var clustered = views.Where(view => view.Count > 0).ToList();
            for (var i = 0; i < clustered.Count; i++)
            {
                for (var j = i + 1; j < clustered.Count; j++)
                    Assert.True(clustered[i].Overlaps(clustered[j]), $"two clusters formed: [{string.Join(", ", clustered[i])}] and [{string.Join(", ", clustered[j])}]\n{string.Join('\n', _nodes.Select(n => n.Output))}");
            }
            if (views.All(view => view.Count == Names.Length) && views.All(view => view.SetEquals(views[0])))
                return started.Elapsed;
            Assert.True(started.Elapsed < FormingBound, $"no cluster of 3 within {FormingBound.TotalSeconds:0} s:\n{string.Join('\n', _nodes.Select(n => n.Output))}");
            await Task.Delay(200);
        }
    }

    /// <summary>The members a node's bootstrap endpoint reports as up (empty until it joined, or while it is starting).</summary>
    private async Task<HashSet<string>> MembersAsync(GatewayProcess node)
    {
        try
        {
            var json = JsonNode.Parse(await _http.GetStringAsync(node.SeedNodesUrl));
            return json?["Nodes"]?.AsArray()
                .Where(member => (int?)member?["Status"] == (int)MemberStatus.Up)
                .Select(member => $"{member?["Node"]?["Host"]}:{member?["Node"]?["Port"]}")
                .ToHashSet(StringComparer.Ordinal) ?? [];
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // Not listening yet, or too busy starting to answer within the client's timeout.
            return [];
        }
    }

    private void DisposeNodes()
    {
        foreach (var node in _nodes)
            node.Dispose();
        _nodes = [];
    }
}
