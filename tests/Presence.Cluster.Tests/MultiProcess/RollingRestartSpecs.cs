using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Presence.Cluster.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Presence.Cluster.Tests.Support.GatewayCluster;

namespace Presence.Cluster.Tests.MultiProcess;

/// <summary>
/// Issue 14, item 3: a rolling restart under load. Three gateway processes, clients beaconing on every node and an
/// operator on every node, all reconnecting with backoff as the real client does. Each node in turn gets SIGTERM, is
/// started again and waited for. Surviving clients keep their sockets and rows; the restarted node's clients hear
/// <c>shutdown</c> and close 1012, show as <c>disconnect</c> elsewhere meanwhile, and come back as one row each.
/// </summary>
public sealed class RollingRestartSpecs(ITestOutputHelper output) : IDisposable
{
    private const int ClientsPerNode = 2;

    private static readonly TimeSpan BeaconEvery = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan ReturnBound = TimeSpan.FromSeconds(60);

    private readonly List<GatewayProcess> _processes = [];
    private GatewayCluster? _cluster;

    /// <summary>The short version run by tests/run.sh: one node of three restarted.</summary>
    [Fact]
    public Task Should_keep_every_row_when_a_node_is_restarted_under_load() => RollingRestartAsync(restarts: ["b"]);

    /// <summary>
    /// Every node restarted in turn; the figures go to docs/reliability.md ("Rolling restart"). Run with
    /// <c>dotnet test tests/Presence.Cluster.Tests -c Release --filter "FullyQualifiedName~RollingRestartSpecs&amp;Category=Measurement" --logger "console;verbosity=detailed"</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Measurement")]
    public Task Measure_a_rolling_restart_of_every_node_under_load() => RollingRestartAsync(restarts: ["a", "b", "c"]);

    public void Dispose()
    {
        foreach (var process in _processes)
            process.Dispose();
        _cluster?.Dispose();
    }

    private async Task RollingRestartAsync(string[] restarts)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2 + 2 * restarts.Length));
        _cluster = await GatewayCluster.StartAsync(timeout.Token, "a", "b", "c");
        var nodes = _cluster.Nodes.ToDictionary(n => n.Name);
        var clients = nodes.Values.SelectMany(n => Enumerable.Range(0, ClientsPerNode).Select(i => new ReconnectingClient(n.Url, n.Name, $"roll-{n.Name}-{i}", beacons: true))).ToList();
        var operators = nodes.Values.Select(n => new ReconnectingClient(n.Url, n.Name, $"operator-{n.Name}", beacons: false)).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var running = clients.Concat(operators).Select(c => c.RunAsync(stop.Token)).ToList();
        var everyId = clients.Concat(operators).Select(c => c.InstanceId).ToList();
        await UntilEveryViewAsync(operators, view => everyId.All(id => Count(view, id) == 1), timeout.Token);

        foreach (var name in restarts)
        {
            var restarted = clients.Concat(operators).Where(c => c.Node == name).ToList();
            var surviving = clients.Where(c => c.Node != name).ToList();
            var survivingConnections = surviving.ToDictionary(c => c.InstanceId, c => c.Connections);
            // The operators of the other nodes: the restarted node's own operator is cut off with it (and, like a client
            // behind a Kubernetes Service, would not be routed to it before it is ready).
            var watching = operators.Where(op => op.Node != name).ToList();
            foreach (var op in watching)
                op.StartWatching(surviving.Select(c => c.InstanceId).ToList(), restarted.Select(c => c.InstanceId).ToList());

            var sigterm = Stopwatch.StartNew();
            await nodes[name].TerminateAsync(TimeSpan.FromSeconds(30));
            var stopped = sigterm.Elapsed;
            var again = nodes[name].StartAgain();
            _processes.Add(again);
            nodes[name] = again;
            await UntilReadyAsync(again, timeout.Token);
            var ready = sigterm.Elapsed;
            await UntilEveryViewAsync(operators, view => everyId.All(id => Count(view, id) == 1 && Reason(view, id) != "disconnect"), timeout.Token);
            var back = sigterm.Elapsed;
            var watched = watching.Select(op => op.StopWatching()).ToList();

            var missing = watched.Sum(w => w.MissingSurvivorRows);
            output.WriteLine($"restart of {name}: stopped {stopped.TotalSeconds:0.0} s after SIGTERM, ready again at {ready.TotalSeconds:0.0} s, " +
                $"its clients back in every view at {back.TotalSeconds:0.0} s; surviving rows missing from any list: {missing}; " +
                $"lists seen {watched.Sum(w => w.Lists)}, empty lists {watched.Sum(w => w.EmptyLists)}, 'disconnect' seen by {watched.Count(w => w.SawDisconnect)} of {watched.Count} other operators");
            Assert.All(restarted, c => Assert.Equal((WebSocketCloseStatus)1012, c.LastClose));
            Assert.All(restarted, c => Assert.True(c.HeardShutdown, $"{c.InstanceId} closed without the shutdown notice"));
            Assert.All(surviving, c => Assert.Equal(survivingConnections[c.InstanceId], c.Connections));
            Assert.Equal(0, missing);
            Assert.All(watched, w => Assert.Equal(0, w.EmptyLists));
            Assert.All(watched, w => Assert.True(w.SawDisconnect, "the restarted node's rows never showed as disconnect"));
        }

        await stop.CancelAsync();
        await Task.WhenAll(running);
        Assert.All(clients, c => Assert.True(c.Failure is null, $"{c.InstanceId}: {c.Failure}"));
        Assert.All(clients, c => Assert.True(c.Answered > 0));
    }

    private static int Count(JsonArray view, string id) => view.Count(e => (string?)e?["instanceId"] == id);

    private static string? Reason(JsonArray view, string id) => (string?)view.FirstOrDefault(e => (string?)e?["instanceId"] == id)?["reason"];

    /// <summary>Until every operator's <c>system-presence</c> satisfies <paramref name="match"/>.</summary>
    private static async Task UntilEveryViewAsync(IEnumerable<ReconnectingClient> operators, Func<JsonArray, bool> match, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var op in operators)
        {
            while (!(await op.ViewAsync(cancellationToken) is { } view && match(view)))
            {
                Assert.True(deadline.Elapsed < ReturnBound, $"the view of {op.Node} did not settle within {ReturnBound.TotalSeconds:0} s");
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private static async Task UntilReadyAsync(GatewayProcess node, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(node.HasExited, $"gateway {node.Name} exited:\n{node.Output}");
            try
            {
                using var response = await http.GetAsync(new Uri($"{node.HttpUrl}/readyz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Still starting.
            }
            Assert.True(deadline.Elapsed < ReturnBound, $"gateway {node.Name} not ready within {ReturnBound.TotalSeconds:0} s:\n{node.Output}");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// A client that stays connected to its node: beacons at a fixed pace when <c>beacons</c>, reconnects with
    /// exponential backoff (200 ms to 2 s) when the socket closes, always with the same instanceId.
    /// </summary>
    private sealed class ReconnectingClient(string url, string node, string instanceId, bool beacons)
    {
        private readonly ConcurrentQueue<JsonArray> _lists = new();
        private WsClient? _client;
        private Watch? _watch;

        public string Node => node;

        public string InstanceId => instanceId;

        public int Connections { get; private set; }

        public int Answered { get; private set; }

        public WebSocketCloseStatus? LastClose { get; private set; }

        public bool HeardShutdown { get; private set; }

        public string? Failure { get; private set; }

        public async Task<JsonArray?> ViewAsync(CancellationToken cancellationToken)
        {
            try
            {
                return _client is { IsOpen: true } client ? await client.SystemPresenceAsync(cancellationToken) : null;
            }
            catch (Exception ex) when (ex is WebSocketException or System.Threading.Channels.ChannelClosedException or InvalidOperationException)
            {
                return null;
            }
        }

        public void StartWatching(List<string> survivors, List<string> restarted) => _watch = new Watch(survivors, restarted);

        public Watch StopWatching()
        {
            var watch = _watch!;
            _watch = null;
            return watch;
        }

        public async Task RunAsync(CancellationToken stop)
        {
            var backoff = TimeSpan.FromMilliseconds(200);
            var sent = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    _client = await WsClient.ConnectAsync(url, instanceId, stop);
                    Connections++;
                    backoff = TimeSpan.FromMilliseconds(200);
                    var reading = ReadListsAsync(_client, stop);
                    while (_client.IsOpen && !stop.IsCancellationRequested)
                    {
                        if (beacons)
                        {
                            var reply = await _client.SystemEventAsync($"Node: {instanceId} · beacon {sent++}", instanceId, stop);
                            if (reply["ok"]?.GetValue<bool>() == true)
                                Answered++;
                        }
                        await Task.WhenAny(Task.Delay(BeaconEvery, stop), _client.Closed);
                    }
                    await reading;
                    if (!stop.IsCancellationRequested)
                    {
                        LastClose = _client.CloseStatus;
                        HeardShutdown = _client.HeardShutdown;
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is WebSocketException or System.Threading.Channels.ChannelClosedException or InvalidOperationException or HttpRequestException)
                {
                    // The node is stopping or not listening yet: back off and dial again, as the real client does.
                }
                finally
                {
                    if (_client is not null)
                        await _client.DisposeAsync();
                    _client = null;
                }
                try
                {
                    await Task.Delay(backoff, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }

        private async Task ReadListsAsync(WsClient client, CancellationToken stop)
        {
            try
            {
                await foreach (var (_, list) in client.PresenceEvents.ReadAllAsync(stop))
                    _watch?.See(list);
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>What one operator saw during one restart.</summary>
        public sealed class Watch(List<string> survivors, List<string> restarted)
        {
            public int Lists { get; private set; }

            public int MissingSurvivorRows { get; private set; }

            public int EmptyLists { get; private set; }

            public bool SawDisconnect { get; private set; }

            public void See(JsonArray list)
            {
                Lists++;
                MissingSurvivorRows += survivors.Count(id => Count(list, id) == 0);
                if (list.All(e => (string?)e?["reason"] == "self"))
                    EmptyLists++;
                if (restarted.Any(id => Reason(list, id) == "disconnect"))
                    SawDisconnect = true;
            }
        }
    }
}
