using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Presence.Cluster.Tests.Support;

/// <summary>
/// A gateway started as README documents it: <c>dotnet Presence.Gateway.dll --port … --cluster --cluster-port … --seed …</c>,
/// on 127.0.0.1. Its output is kept for the failure message of a spec.
/// </summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _awaitedLines = new(StringComparer.Ordinal);

    private readonly IReadOnlyList<string> _seeds;
    private readonly IReadOnlyDictionary<string, string> _environment;

    private GatewayProcess(string name, int port, int clusterPort, int managementPort, IReadOnlyList<string> seeds, IReadOnlyDictionary<string, string> environment, Process process)
    {
        _seeds = seeds;
        _environment = environment;
        Name = name;
        Port = port;
        ClusterPort = clusterPort;
        ManagementPort = managementPort;
        _process = process;
    }

    /// <summary>Cluster Bootstrap's port (<c>/bootstrap/seed-nodes</c>); 0 for a node started with seeds.</summary>
    public int ManagementPort { get; }

    public string SeedNodesUrl => $"http://127.0.0.1:{ManagementPort}/bootstrap/seed-nodes";

    public string HttpUrl => $"http://127.0.0.1:{Port}";

    public string Name { get; }

    public int Port { get; }

    public int ClusterPort { get; }

    public string Url => $"ws://127.0.0.1:{Port}/";

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    public string Output => string.Join('\n', _output.TakeLast(40));

    /// <summary>The gateway's build output: PRESENCE_GATEWAY_DLL, else the build of the same configuration as these tests.</summary>
    public static string Dll
    {
        get
        {
            if (Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_DLL") is { Length: > 0 } dll)
                return dll;
            // tests/Presence.Cluster.Tests/bin/<Configuration>/net10.0 → src/Presence.Gateway/bin/<Configuration>/net10.0
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = output.Parent!.Name;
            var root = output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(root, "src", "Presence.Gateway", "bin", configuration, output.Name, "Presence.Gateway.dll");
        }
    }

    /// <summary>
    /// Starts nodes whose seed list is every node's cluster port, the way README's three-node commands do, each with
    /// <paramref name="environment"/> (settings such as <c>PRESENCE_DDATA_NOTIFY_INTERVAL</c>) if given.
    /// </summary>
    public static IReadOnlyList<GatewayProcess> StartCluster(string[] names, IReadOnlyDictionary<string, string>? environment = null)
    {
        var ports = names.Select(_ => (Ws: FreePort(), Cluster: FreePort())).ToList();
        var seeds = ports.SelectMany(p => new[] { "--seed", $"127.0.0.1:{p.Cluster}" }).ToList();
        return names.Select((name, i) => Start(name, ports[i].Ws, ports[i].Cluster, 0, seeds, environment ?? ImmutableDictionary<string, string>.Empty)).ToList();
    }

    /// <summary>
    /// Starts nodes the way README's discovery commands do: no seeds, <c>PRESENCE_CLUSTER_DISCOVERY=config</c> and every
    /// node's management endpoint as the contact points. <paramref name="running"/> of them are started now, all at
    /// once; the others are only listed (a node missing from a cold start).
    /// </summary>
    public static IReadOnlyList<GatewayProcess> StartBootstrapCluster(string[] names, int? running = null)
    {
        var ports = names.Select(_ => (Ws: FreePort(), Cluster: FreePort(), Management: FreePort())).ToList();
        var environment = new Dictionary<string, string>
        {
            ["PRESENCE_CLUSTER_DISCOVERY"] = "config",
            ["PRESENCE_CLUSTER_CONTACT_POINTS"] = string.Join(',', ports.Select(p => $"127.0.0.1:{p.Management}")),
            ["PRESENCE_CLUSTER_REQUIRED_CONTACT_POINTS"] = names.Length.ToString(CultureInfo.InvariantCulture),
        };
        return names.Take(running ?? names.Length)
            .Select((name, i) => Start(name, ports[i].Ws, ports[i].Cluster, ports[i].Management, [], environment))
            .ToList();
    }

    /// <summary>The same node started again: same name, ports, seeds and environment (a restart in a rolling update).</summary>
    public GatewayProcess StartAgain() => Start(Name, Port, ClusterPort, ManagementPort, _seeds, _environment);

    private static GatewayProcess Start(string name, int port, int clusterPort, int managementPort, IReadOnlyList<string> seeds, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Dll, "--port", port.ToString(CultureInfo.InvariantCulture), "--cluster", "--cluster-port", clusterPort.ToString(CultureInfo.InvariantCulture) }.Concat(seeds))
            info.ArgumentList.Add(arg);
        // Nothing of the test run's environment may turn a setting the spec relies on.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PRESENCE_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        if (managementPort > 0)
            info.Environment["PRESENCE_MANAGEMENT_PORT"] = managementPort.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var gateway = new GatewayProcess(name, port, clusterPort, managementPort, seeds, environment, process);
        process.OutputDataReceived += (_, e) => gateway.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return gateway;
    }

    /// <summary>SIGTERM, as Kubernetes and systemd stop a process: clients hear <c>shutdown</c>, the node leaves the cluster.</summary>
    public async Task TerminateAsync(TimeSpan within)
    {
        if (_process.HasExited)
            return;
        if (SendSignal(_process.Id, Sigterm) != 0)
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
        await _process.WaitForExitAsync().WaitAsync(within);
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGKILL: no leave, no goodbye to clients; the cluster only notices the missing heartbeats.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }

    /// <summary>Completes when a line of the node's output contains <paramref name="text"/> (from now on).</summary>
    public Task OutputLineAsync(string text) =>
        _awaitedLines.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void Keep(string? line)
    {
        if (line is null)
            return;
        foreach (var (text, awaited) in _awaitedLines)
        {
            if (line.Contains(text, StringComparison.Ordinal))
                awaited.TrySetResult();
        }
        _output.Enqueue($"[{Name}] {line}");
        while (_output.Count > 200)
            _output.TryDequeue(out _);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
