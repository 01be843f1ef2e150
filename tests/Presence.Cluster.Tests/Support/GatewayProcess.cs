using System.Collections.Concurrent;
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

    private GatewayProcess(string name, int port, int clusterPort, Process process)
    {
        Name = name;
        Port = port;
        ClusterPort = clusterPort;
        _process = process;
    }

    public string Name { get; }

    public int Port { get; }

    public int ClusterPort { get; }

    public string Url => $"ws://127.0.0.1:{Port}/";

    public bool HasExited => _process.HasExited;

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

    /// <summary>Starts nodes whose seed list is every node's cluster port, the way README's three-node commands do.</summary>
    public static IReadOnlyList<GatewayProcess> StartCluster(params string[] names)
    {
        var ports = names.Select(_ => (Ws: FreePort(), Cluster: FreePort())).ToList();
        var seeds = ports.SelectMany(p => new[] { "--seed", $"127.0.0.1:{p.Cluster}" }).ToList();
        return names.Select((name, i) => Start(name, ports[i].Ws, ports[i].Cluster, seeds)).ToList();
    }

    private static GatewayProcess Start(string name, int port, int clusterPort, IEnumerable<string> seeds)
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
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var gateway = new GatewayProcess(name, port, clusterPort, process);
        process.OutputDataReceived += (_, e) => gateway.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return gateway;
    }

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

    private void Keep(string? line)
    {
        if (line is null)
            return;
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
