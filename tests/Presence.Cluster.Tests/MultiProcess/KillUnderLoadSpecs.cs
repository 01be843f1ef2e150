using System.Diagnostics;
using System.Text.Json.Nodes;
using Presence.Cluster.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Presence.Cluster.Tests.Support.GatewayCluster;

namespace Presence.Cluster.Tests.MultiProcess;

/// <summary>
/// Issue 7, item 5: three gateway processes with clients beaconing on every node; SIGKILL of one node
/// while they do loses nothing on the other two: no row of a surviving client ever leaves their view,
/// no surviving socket closes, and every beacon sent to them before, during and after the kill is answered.
/// </summary>
public sealed class KillUnderLoadSpecs(ITestOutputHelper output) : IDisposable
{
    private const int ClientsPerNode = 4;

    /// <summary>Beacons answered by every loop before the kill (the load is running) and after the dead rows left (it still is).</summary>
    private const int AnsweredMark = 5;

    /// <summary>One beacon per client per interval: 120 beacons/s over the three nodes, well inside what a node answers.</summary>
    private static readonly TimeSpan BeaconEvery = TimeSpan.FromMilliseconds(100);

    private GatewayCluster? _cluster;

    [Fact]
    public async Task Should_lose_no_row_socket_or_beacon_on_the_surviving_nodes_when_one_is_killed_under_load()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        _cluster = await GatewayCluster.StartAsync(timeout.Token, "a", "b", "c");
        var (a, survivingNodes) = (_cluster.Nodes[0], _cluster.Nodes.Skip(1).ToList());
        var loops = new List<BeaconLoop>();
        foreach (var node in _cluster.Nodes)
        {
            for (var i = 0; i < ClientsPerNode; i++)
            {
                var id = $"load-{node.Name}-{i}";
                loops.Add(new BeaconLoop(node, id, await WsClient.ConnectAsync(node.Url, id, timeout.Token)));
            }
        }
        var observers = new List<WsClient>();
        foreach (var node in survivingNodes)
            observers.Add(await WsClient.ConnectAsync(node.Url, $"observer-{node.Name}", timeout.Token));
        try
        {
            var onA = loops.Where(l => l.Node == a).ToList();
            var surviving = loops.Except(onA).ToList();
            var survivingIds = surviving.Select(l => l.InstanceId).Concat(survivingNodes.Select(n => $"observer-{n.Name}")).ToList();
            var everyId = survivingIds.Concat(onA.Select(l => l.InstanceId)).ToList();
            foreach (var observer in observers)
                await NextPresenceAsync(observer, list => everyId.All(id => HasInstance(list, id)), TimeSpan.FromSeconds(10), timeout.Token);

            using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            var running = loops.Select(l => l.RunAsync(stopLoad.Token)).ToList();
            await Task.WhenAll(loops.Select(l => l.AnsweredAsync(AnsweredMark))).WaitAsync(TimeSpan.FromSeconds(20), timeout.Token);

            var killedAt = Stopwatch.StartNew();
            a.Kill();
            foreach (var loop in surviving)
                loop.MarkKill();
            // From here on every list each surviving node publishes must still hold every surviving row.
            using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            var watches = observers.Select(o => WatchAsync(o, survivingIds, onA.Select(l => l.InstanceId).ToList(), killedAt, stopWatching.Token)).ToList();
            var gone = await Task.WhenAll(watches.Select(w => w.Gone)).WaitAsync(FailureBound + TimeSpan.FromSeconds(5), timeout.Token);
            foreach (var loop in surviving)
                loop.MarkGone();
            await Task.WhenAll(surviving.Select(l => l.AnsweredSinceGoneAsync(AnsweredMark))).WaitAsync(TimeSpan.FromSeconds(20), timeout.Token);
            await stopLoad.CancelAsync();
            await Task.WhenAll(running);
            await stopWatching.CancelAsync();
            var lists = await Task.WhenAll(watches.Select(w => w.Checked));

            for (var i = 0; i < gone.Length; i++)
                output.WriteLine($"node a's rows left node {survivingNodes[i].Name}'s view {gone[i].TotalSeconds:0.0} s after SIGKILL; {lists[i].Lists} lists checked, {lists[i].Missing.Count} missing a surviving row");
            output.WriteLine($"surviving clients: {surviving.Sum(l => l.Sent)} beacons sent, {surviving.Sum(l => l.AnsweredOk)} answered ok, " +
                $"{surviving.Sum(l => l.AnsweredAfterKill)} of them sent after the kill; slowest answer {surviving.Max(l => l.Slowest).TotalMilliseconds:0} ms");
            Assert.All(gone, g => Assert.True(g < FailureBound, $"node a's rows left a view only after {g}"));
            Assert.All(lists, l => Assert.True(l.Missing.Count == 0, $"a surviving row went missing: {string.Join("; ", l.Missing.Take(3))}"));
            Assert.All(surviving, l =>
            {
                Assert.True(l.Failure is null, $"{l.InstanceId}: {l.Failure}");
                Assert.Equal(l.Sent, l.AnsweredOk);
                Assert.True(l.AnsweredAfterKill >= AnsweredMark, $"{l.InstanceId}: {l.AnsweredAfterKill} beacons answered after the kill");
            });
            // Still open, no close frame, and still answering: the node's view has every surviving row and none of a's.
            foreach (var client in surviving.Select(l => l.Client).Concat(observers))
            {
                Assert.True(client.IsOpen, "a surviving socket was closed");
                var rows = await client.SystemPresenceAsync(timeout.Token);
                Assert.All(survivingIds, id => Assert.True(HasInstance(rows, id), $"{id} missing from {rows.ToJsonString()}"));
                Assert.DoesNotContain(onA, l => HasInstance(rows, l.InstanceId));
                Assert.Equal(2, SelfRows(rows));
            }
        }
        finally
        {
            foreach (var client in loops.Select(l => l.Client).Concat(observers))
                await client.DisposeAsync();
        }
    }

    public void Dispose() => _cluster?.Dispose();

    /// <summary>
    /// Reads every presence list an observer receives after the kill: <c>Gone</c> completes with the time
    /// until the killed node's rows had left; <c>Checked</c>, once stopped, with the lists read and any
    /// that missed a surviving row.
    /// </summary>
    private static (Task<TimeSpan> Gone, Task<(int Lists, List<string> Missing)> Checked) WatchAsync(
        WsClient observer, List<string> survivingIds, List<string> deadIds, Stopwatch killedAt, CancellationToken stop)
    {
        var gone = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<(int, List<string>)> ReadAsync()
        {
            var (lists, missing) = (0, new List<string>());
            try
            {
                await foreach (var (_, list) in observer.PresenceEvents.ReadAllAsync(stop))
                {
                    lists++;
                    missing.AddRange(survivingIds.Where(id => !HasInstance(list, id)).Select(id => $"{id} at {killedAt.Elapsed.TotalSeconds:0.0} s"));
                    if (!deadIds.Any(id => HasInstance(list, id)) && SelfRows(list) == 2)
                        gone.TrySetResult(killedAt.Elapsed);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The spec has seen enough.
            }
            gone.TrySetException(new TimeoutException("the killed node's rows never left this view"));
            return (lists, missing);
        }
        return (gone.Task, ReadAsync());
    }

    /// <summary>One client beaconing its own row at a fixed pace, one request at a time, counting every answer.</summary>
    private sealed class BeaconLoop(GatewayProcess node, string instanceId, WsClient client)
    {
        /// <summary>Bounds a loop whatever happens: 90 s of beacons at the pace.</summary>
        private const int MaxBeacons = 900;

        private readonly Lock _lock = new();
        private readonly List<(int Count, bool SinceGone, TaskCompletionSource Reached)> _waiters = [];
        private bool _killed;
        private bool _gone;
        private int _sinceGone;

        public GatewayProcess Node { get; } = node;
        public WsClient Client { get; } = client;
        public string InstanceId { get; } = instanceId;
        public int Sent { get; private set; }
        public int AnsweredOk { get; private set; }
        public int AnsweredAfterKill { get; private set; }
        public TimeSpan Slowest { get; private set; }
        public string? Failure { get; private set; }

        public void MarkKill()
        {
            lock (_lock)
                _killed = true;
        }

        public void MarkGone()
        {
            lock (_lock)
                _gone = true;
        }

        public Task AnsweredAsync(int count) => Wait(count, sinceGone: false);

        public Task AnsweredSinceGoneAsync(int count) => Wait(count, sinceGone: true);

        /// <summary>Beacons until stopped, which only ends the wait between two beacons; a loop on the killed node ends when its socket does.</summary>
        public async Task RunAsync(CancellationToken stop)
        {
            using var pace = new PeriodicTimer(BeaconEvery);
            try
            {
                for (var n = 0; n < MaxBeacons && await pace.WaitForNextTickAsync(stop); n++)
                {
                    bool afterKill;
                    lock (_lock)
                        afterKill = _killed;
                    var sent = Stopwatch.StartNew();
                    Sent++;
                    var response = await Client.SystemEventAsync($"Node: {InstanceId} · beacon {n}", InstanceId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
                    if (response["ok"]?.GetValue<bool>() != true)
                    {
                        Failure ??= $"beacon {n} refused: {response.ToJsonString()}";
                        continue;
                    }
                    Slowest = sent.Elapsed > Slowest ? sent.Elapsed : Slowest;
                    Counted(afterKill);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The spec stopped the load between two beacons.
            }
            // A send on a socket the killed node dropped surfaces as WebSocketException or, when the stream is already
            // closed, as OperationCanceledException; either is a failure (asserted for the surviving loops only).
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or InvalidOperationException or TimeoutException or System.Threading.Channels.ChannelClosedException or OperationCanceledException)
            {
                Failure ??= $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        private void Counted(bool afterKill)
        {
            lock (_lock)
            {
                AnsweredOk++;
                if (afterKill)
                    AnsweredAfterKill++;
                if (_gone)
                    _sinceGone++;
                foreach (var waiter in _waiters.Where(w => (w.SinceGone ? _sinceGone : AnsweredOk) >= w.Count))
                    waiter.Reached.TrySetResult();
            }
        }

        private Task Wait(int count, bool sinceGone)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if ((sinceGone ? _sinceGone : AnsweredOk) >= count)
                    return Task.CompletedTask;
                _waiters.Add((count, sinceGone, reached));
            }
            return reached.Task;
        }
    }
}
