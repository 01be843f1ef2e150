using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Presence.Cluster.Tests.Support;
using static Presence.Cluster.Tests.Support.GatewayCluster;
using Xunit;
using Xunit.Abstractions;

namespace Presence.Cluster.Tests.MultiProcess;

/// <summary>
/// Issue 14 item 5: cross-node convergence against the gossip it costs, per candidate setting, measured on real
/// gateway processes on 127.0.0.1. Driven by <c>bench/convergence.sh [ROUNDS] [NODES] [CANDIDATES]</c>, which
/// passes its arguments as <c>PRESENCE_BENCH_*</c> variables; see docs/reliability.md, "Convergence".
/// </summary>
public sealed partial class ConvergenceSpecs(ITestOutputHelper output)
{
    /// <summary>
    /// Per candidate, in the order given (list one twice to alternate A/B): a fresh cluster of NODES processes started
    /// with the candidate's environment; the cluster links' bytes sent per node per second, idle (10 s, with the CPU the
    /// nodes used meanwhile) and while two
    /// clients per node beacon once a second each (10 s); then ROUNDS changes made one at a time by a client of the
    /// first node, each after a random pause of 150-400 ms (longer than <c>presence.broadcast-interval</c> and
    /// <c>publish-interval</c>, so each change is an isolated one, as a client's beacon is), timed from the beacon
    /// request until the presence event that carries it reaches a reader on every other node. Beside the figures:
    /// the load average, and the time the nodes' threads spent runnable but waiting for a core (schedstat).
    /// </summary>
    [Fact]
    [Trait("Category", "Measurement")]
    public async Task Measure_convergence_and_gossip_traffic_per_candidate()
    {
        var rounds = EnvInt("PRESENCE_BENCH_ROUNDS", 100);
        var size = EnvInt("PRESENCE_BENCH_NODES", 3);
        var candidates = Candidates(Environment.GetEnvironmentVariable("PRESENCE_BENCH_CANDIDATES") ?? "shipped");
        output.WriteLine($"| candidate | nodes | load before / after | idle B/s per node | idle CPU ms/s per node | beaconing B/s per node | p50 ms | p99 ms | max ms | run-queue wait ms/s per node | time (UTC) |");
        output.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
        var failed = new List<string>();
        foreach (var (name, environment) in candidates)
        {
            try
            {
                output.WriteLine(await MeasureAsync(name, environment, size, rounds));
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or Xunit.Sdk.XunitException)
            {
                // One candidate's cluster that did not form or a change that never arrived does not void the others' rows.
                output.WriteLine($"| {name} | {size} | {LoadAverage()} | failed: {ex.GetType().Name}: {ex.Message.Split('\n')[0]} |");
                failed.Add(name);
            }
        }
        Assert.Empty(failed);
    }

    private static async Task<string> MeasureAsync(string name, IReadOnlyDictionary<string, string> environment, int size, int rounds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5 + size));
        var names = Enumerable.Range(0, size).Select(i => ((char)('a' + i)).ToString()).ToArray();
        using var cluster = await GatewayCluster.StartAsync(names, environment, timeout.Token);
        var nodes = cluster.Nodes;
        var clusterPorts = nodes.Select(n => n.ClusterPort).ToHashSet();
        var loadBefore = LoadAverage();

        // The probes that waited for the cluster have gone; let the view settle before counting idle bytes.
        await Task.Delay(TimeSpan.FromSeconds(3), timeout.Token);
        var cpuBefore = CpuTime(nodes);
        var idle = await BytesPerSecondAsync(nodes, clusterPorts, TimeSpan.FromSeconds(10), timeout.Token);
        var idleCpu = (CpuTime(nodes) - cpuBefore).TotalMilliseconds / 10 / size;

        var beaconers = new List<WsClient>();
        foreach (var node in nodes)
        {
            for (var i = 0; i < 2; i++)
                beaconers.Add(await WsClient.ConnectAsync(node.Url, $"beacon-{node.Name}-{i}", timeout.Token));
        }
        using var beaconing = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var loops = beaconers.Select((client, i) => BeaconEverySecondAsync(client, $"beacon-{i}", beaconing.Token)).ToList();
        var busy = await BytesPerSecondAsync(nodes, clusterPorts, TimeSpan.FromSeconds(10), timeout.Token);
        await beaconing.CancelAsync();
        await Task.WhenAll(loops);
        foreach (var client in beaconers)
            await client.DisposeAsync();

        await using var writer = await WsClient.ConnectAsync(nodes[0].Url, "measured", timeout.Token);
        var readers = new List<WsClient>();
        foreach (var node in nodes.Skip(1))
            readers.Add(await WsClient.ConnectAsync(node.Url, $"reader-{node.Name}", timeout.Token));
        foreach (var reader in readers)
            await NextPresenceAsync(reader, list => HasInstance(list, "measured"), TimeSpan.FromSeconds(10), timeout.Token);

        var random = new Random(20261205);
        var waitBefore = RunQueueWait(nodes);
        var measuring = Stopwatch.StartNew();
        var latencies = new List<double>(rounds);
        for (var i = 0; i < rounds; i++)
        {
            await Task.Delay(random.Next(150, 400), timeout.Token);
            var text = $"Node: measured · change {i}";
            var sent = DateTime.UtcNow;
            await writer.SystemEventAsync(text, "measured", timeout.Token);
            var arrivals = await Task.WhenAll(readers.Select(reader =>
                NextPresenceAsync(reader, list => list.Any(e => (string?)e?["text"] == text), TimeSpan.FromSeconds(10), timeout.Token)));
            latencies.Add((arrivals.Max(a => a.At) - sent).TotalMilliseconds);
        }
        var waited = WaitedBetween(waitBefore, RunQueueWait(nodes)).TotalMilliseconds / measuring.Elapsed.TotalSeconds / size;
        foreach (var reader in readers)
            await reader.DisposeAsync();
        latencies.Sort();

        Assert.All(nodes, node => Assert.False(node.HasExited, $"gateway {node.Name} exited:\n{node.Output}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {size} | {loadBefore} / {LoadAverage()} | {idle:0} | {idleCpu:0} | {busy:0} | {Percentile(latencies, 0.50):0} | {Percentile(latencies, 0.99):0} | {latencies[^1]:0} | {waited:0} | {DateTime.UtcNow:HH:mm} |");
    }

    private static async Task BeaconEverySecondAsync(WsClient client, string text, CancellationToken cancellationToken)
    {
        var i = 0;
        try
        {
            while (true)
            {
                await Task.Delay(1000, cancellationToken);
                await client.SystemEventAsync($"Node: {text} · {i++}", text, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Bytes the nodes' processes sent on their cluster links over <paramref name="window"/>, per node per second, from the kernel's counters.</summary>
    private static async Task<double> BytesPerSecondAsync(IReadOnlyList<GatewayProcess> nodes, HashSet<int> clusterPorts, TimeSpan window, CancellationToken cancellationToken)
    {
        var pids = nodes.Select(n => n.Pid).ToHashSet();
        var before = await BytesSentAsync(pids, clusterPorts);
        var clock = Stopwatch.StartNew();
        await Task.Delay(window, cancellationToken);
        var after = await BytesSentAsync(pids, clusterPorts);
        // Per socket, so that a link opened or closed in the window counts only what it sent in it.
        var sent = after.Sum(socket => socket.Value - before.GetValueOrDefault(socket.Key));
        return sent / clock.Elapsed.TotalSeconds / nodes.Count;
    }

    /// <summary>bytes_sent of each TCP socket of <paramref name="pids"/> with a cluster port at either end, from <c>ss -tinp</c>.</summary>
    private static async Task<Dictionary<string, long>> BytesSentAsync(HashSet<int> pids, HashSet<int> clusterPorts)
    {
        var info = new ProcessStartInfo("ss", "-tinpH") { RedirectStandardOutput = true, UseShellExecute = false };
        using var ss = Process.Start(info)!;
        var text = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        var sockets = new Dictionary<string, long>();
        foreach (Match socket in SsSocket().Matches(text))
        {
            var local = int.Parse(socket.Groups["lport"].Value, CultureInfo.InvariantCulture);
            var peer = int.Parse(socket.Groups["pport"].Value, CultureInfo.InvariantCulture);
            if (pids.Contains(int.Parse(socket.Groups["pid"].Value, CultureInfo.InvariantCulture)) && (clusterPorts.Contains(local) || clusterPorts.Contains(peer)))
                sockets[$"{local}>{peer}"] = long.Parse(socket.Groups["sent"].Value, CultureInfo.InvariantCulture);
        }
        return sockets;
    }

    /// <summary>One socket of <c>ss -tinpH</c>: its address line and the info line after it.</summary>
    [GeneratedRegex(@"^\S+\s+\d+\s+\d+\s+\S+:(?<lport>\d+)\s+\S+:(?<pport>\d+)\s+users:\(\(""[^""]*"",pid=(?<pid>\d+)[^\n]*\n(?:[^\n]*?)bytes_sent:(?<sent>\d+)", RegexOptions.Multiline)]
    private static partial Regex SsSocket();

    /// <summary>
    /// Per thread of the nodes, the time it spent runnable but not running (the second field of its schedstat): CPU
    /// queueing. Keyed by thread, since a thread that ends takes its count with it.
    /// </summary>
    private static Dictionary<string, long> RunQueueWait(IReadOnlyList<GatewayProcess> nodes)
    {
        var nanoseconds = new Dictionary<string, long>();
        foreach (var task in nodes.SelectMany(node => Directory.EnumerateDirectories($"/proc/{node.Pid}/task")))
        {
            try
            {
                nanoseconds[task] = long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }
        return nanoseconds;
    }

    /// <summary>CPU time (user + system) the nodes' processes used so far, from /proc/&lt;pid&gt;/stat (clock ticks of 10 ms).</summary>
    private static TimeSpan CpuTime(IReadOnlyList<GatewayProcess> nodes) =>
        TimeSpan.FromMilliseconds(10 * nodes.Sum(node =>
        {
            // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
            var fields = File.ReadAllText($"/proc/{node.Pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }));

    /// <summary>The run-queue wait of the threads that lived through the whole window (a thread that ended meanwhile is left out).</summary>
    private static TimeSpan WaitedBetween(Dictionary<string, long> before, Dictionary<string, long> after) =>
        TimeSpan.FromTicks(after.Where(thread => before.ContainsKey(thread.Key)).Sum(thread => thread.Value - before[thread.Key]) / 100);

    /// <summary><c>name:KEY=VALUE,KEY=VALUE;name2:…</c>; a bare name uses the shipped settings.</summary>
    private static List<(string Name, IReadOnlyDictionary<string, string> Environment)> Candidates(string spec) =>
        spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(candidate =>
            {
                var colon = candidate.IndexOf(':', StringComparison.Ordinal);
                var settings = colon < 0 ? "" : candidate[(colon + 1)..];
                IReadOnlyDictionary<string, string> environment = settings.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(pair => pair.Split('=', 2))
                    .ToDictionary(pair => pair[0], pair => pair[1]);
                return (colon < 0 ? candidate : candidate[..colon], environment);
            })
            .ToList();

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) && value > 0 ? value : fallback;

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
