using System.Diagnostics;
using System.Globalization;

namespace Presence.LoadTest;

/// <summary>Latency samples in milliseconds; each worker fills its own list, merged once at the end.</summary>
internal sealed class Latencies
{
    private readonly List<double> _samples = [];

    public int Count => _samples.Count;

    public void Add(double milliseconds) => _samples.Add(milliseconds);

    public void Add(long from, long to) => _samples.Add((to - from) * 1000.0 / Stopwatch.Frequency);

    public static Latencies Merge(IEnumerable<Latencies> parts)
    {
        var all = new Latencies();
        foreach (var part in parts)
            all._samples.AddRange(part._samples);
        return all;
    }

    /// <summary>Nearest-rank percentile; NaN without samples.</summary>
    public double Percentile(double p)
    {
        if (_samples.Count == 0)
            return double.NaN;
        _samples.Sort();
        var rank = (int)Math.Ceiling(p / 100 * _samples.Count) - 1;
        return _samples[Math.Clamp(rank, 0, _samples.Count - 1)];
    }

    public double Max => _samples.Count == 0 ? double.NaN : _samples.Max();
}

/// <summary>How long a request case runs its load unmeasured before the measured window.</summary>
/// <param name="Minimum">At least this long.</param>
/// <param name="UntilCompilerIdle">Then on until the server's tiered compiler is idle (see Scenarios.WarmUpAsync).</param>
internal sealed record WarmUp(TimeSpan Minimum, bool UntilCompilerIdle)
{
    /// <summary>For figures of the steady state: 20 s (a fresh gateway on one core re-compiles its hot path for about that long), then until the compiler is idle.</summary>
    public static readonly WarmUp Steady = new(TimeSpan.FromSeconds(20), UntilCompilerIdle: true);
}

/// <summary>
/// Tells when a server's tiered compiler has been idle for <see cref="QuietFor"/>: until then a fresh .NET server is still
/// re-compiling its hot paths, and its CPU per operation is not yet its own. A .NET server pinned to one core sees one
/// CPU, and the runtime then delays tier-up tenfold (call counting starts only after a one-second pause in new
/// compilations): under load a fresh gateway ran part of its hot path unoptimised for 20–25 s (perf: the compiler
/// thread at 10–12 % of the samples 8–16 s in), which a two-second warm-up counted as the gateway's cost. One quiet
/// second proves nothing, since the delay itself is one. A server without the runtime (Node) is idle at once.
/// </summary>
internal sealed class CompilerWatch(ServerProcess server)
{
    private static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(3);

    private Dictionary<int, long> _ticks = server.CompilerTicks();
    private long _quietSince = Stopwatch.GetTimestamp();

    /// <summary>Samples the compiler threads; true once none has run for <see cref="QuietFor"/>.</summary>
    public bool Idle()
    {
        var now = server.CompilerTicks();
        if (now.Any(thread => thread.Value > _ticks.GetValueOrDefault(thread.Key)))
            _quietSince = Stopwatch.GetTimestamp();
        _ticks = now;
        return Stopwatch.GetElapsedTime(_quietSince) >= QuietFor;
    }
}

/// <summary>
/// Server and tool CPU over one measured window. The server's CPU per operation is
/// the figure no load tool can blur; the tool's own core use says whether a rate
/// was bounded by the tool (near 100 %) rather than by the server.
/// </summary>
internal sealed class CpuWindow
{
    private readonly ServerProcess _server;
    private readonly ProcSample? _serverStart;
    private readonly ProcSample _toolStart;

    private CpuWindow(ServerProcess server)
    {
        _server = server;
        _serverStart = server.Sample();
        _toolStart = ProcSample.Self();
    }

    public static CpuWindow Start(ServerProcess server) => new(server);

    /// <summary>Adds wall time, server CPU per operation and both cores' use to <paramref name="result"/>; returns the wall time in seconds.</summary>
    public double Stop(CaseResult result, long operations, string perWhat)
    {
        var tool = ProcSample.Self();
        var wall = tool.SecondsSince(_toolStart);
        result.Metric("wall_s", wall, "s");
        result.Metric("tool_core_busy_pct", 100 * (tool.CpuSeconds - _toolStart.CpuSeconds) / wall, "%");
        if (_serverStart is not { } start || _server.Sample() is not { } end)
            return wall;
        var cpu = end.CpuSeconds - start.CpuSeconds;
        result.Metric("server_core_busy_pct", 100 * cpu / wall, "%");
        result.Metric("server_cpu_ms", cpu * 1000, "ms");
        if (operations > 0)
            result.Metric($"server_cpu_us_per_{perWhat}", cpu * 1e6 / operations, "µs");
        result.Metric("server_rss_mb", end.RssBytes / 1048576.0, "MB");
        return wall;
    }
}

/// <summary>
/// One status line, refreshed in place on a terminal (every 5 s as plain lines when
/// stderr is redirected, so that logs stay short).
/// </summary>
internal sealed class ProgressLine : IDisposable
{
    private readonly Timer _timer;
    private readonly Func<string> _status;
    private readonly string _label;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly bool _inPlace = !Console.IsErrorRedirected;

    public ProgressLine(string label, Func<string> status)
    {
        _label = label;
        _status = status;
        var period = _inPlace ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(5);
        _timer = new Timer(_ => Print(final: false), null, period, period);
    }

    public void Dispose()
    {
        _timer.Dispose();
        Print(final: true);
    }

    private void Print(bool final)
    {
        var elapsed = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var line = string.Create(CultureInfo.InvariantCulture, $"[{_label} {elapsed,5:0.0}s] {_status()}");
        if (_inPlace)
            Console.Error.Write("\r" + line.PadRight(Math.Min(Console.BufferWidth > 0 ? Console.BufferWidth - 1 : 100, 160)) + (final ? "\n" : ""));
        else
            Console.Error.WriteLine(line);
    }
}
