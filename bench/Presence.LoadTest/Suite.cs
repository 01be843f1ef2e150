using System.Globalization;

namespace Presence.LoadTest;

/// <summary>A figure of issue 6's table: which metric of which case, the bound, and OpenClaw's figure.</summary>
internal sealed record TargetSpec(string Figure, string Metric, bool AtMost, double Bound, string Target, string Reference);

internal delegate Task<CaseResult> CaseRun(ServerProcess server, ClientFactory factory, CaseResult result);

/// <summary>One case to run: a scenario with fixed parameters, on a fresh server when the tool starts it.</summary>
internal sealed record CaseSpec(string Name, string Scenario, IReadOnlyDictionary<string, string> Parameters, CaseRun Run, IReadOnlyList<TargetSpec> Targets)
{
    public CaseResult NewResult() => new(Scenario, Name, Parameters);
}

/// <summary>The case lists: issue 6's full table, the CI smoke, and a single scenario from the command line.</summary>
internal static class Suite
{
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(300);

    /// <summary>The smoke asserts behaviour only: a short fixed warm-up, no wait for the compiler.</summary>
    private static readonly WarmUp SmokeWarmUp = new(TimeSpan.FromSeconds(0.3), UntilCompilerIdle: false);

    /// <summary>Every figure of the table, with its parameters.</summary>
    public static IReadOnlyList<CaseSpec> Full(TimeSpan duration, int fanoutTrials) =>
    [
        Handshake("handshake-1000-c32", 1000, 32,
            Target("server CPU per handshake, N=1000 C=32", "server_cpu_us_per_handshake", true, 75, "≤ 75 µs", "690–1,040 µs"),
            Target("handshake p99, N=1000 C=32", "handshake_p99_ms", true, 10, "≤ 10 ms", "—")),
        Beacons("beacons-1-client", 1, 1, duration, WarmUp.Steady, fresh: false,
            Target("beacons, 1 client, 1 in flight: rate", "beacons_per_s", false, 12_000, "≥ 12,000/s", "6,506/s"),
            Target("beacons, 1 client, 1 in flight: server CPU", "server_cpu_us_per_beacon", true, 12, "≤ 12 µs", "124 µs")),
        Beacons("beacons-1-client-fresh", 1, 1, duration, WarmUp.Steady, fresh: true),
        // 10 and 50 clients draw the throughput curve of the report's chart between the two points.
        Beacons("beacons-10-clients", 10, 1, duration, WarmUp.Steady, fresh: false),
        Beacons("beacons-50-clients", 50, 1, duration, WarmUp.Steady, fresh: false),
        Beacons("beacons-200-clients", 200, 1, duration, WarmUp.Steady, fresh: false,
            Target("beacons, 200 clients, 1 in flight each: rate", "beacons_per_s", false, 20_000, "≥ 20,000/s", "45/s"),
            Target("beacons, 200 clients, 1 in flight each: p99", "beacon_p99_ms", true, 20, "≤ 20 ms", "4.7 s")),
        Beacons("beacons-200-clients-fresh", 200, 1, duration, WarmUp.Steady, fresh: true),
        Query("query-empty-r8", 8, 1, duration, WarmUp.Steady, 0),
        Query("query-200rows-r8", 8, 200, duration, WarmUp.Steady, 0,
            Target("system-presence, 200 rows, 8 readers: server CPU", "server_cpu_us_per_query", true, 20, "≤ 20 µs", "203 µs")),
        Query("query-200rows-r8-while-10-beacon", 8, 200, duration, WarmUp.Steady, 10,
            Target("system-presence p99 while 10 clients beacon", "query_p99_ms", true, 5, "≤ 5 ms", "206 ms")),
        Fanout("fanout-small-1000", 1000, 3, fanoutTrials, Gap, WarmUp.Steady,
            Target("fan-out p99, small list, 1,000 watchers", "fanout_all_p99_ms", true, 20, "≤ 20 ms", "67 ms")),
        // 2,500 watchers: a middle point for the report's chart.
        Fanout("fanout-small-2500", 2500, 3, fanoutTrials, Gap, WarmUp.Steady),
        Fanout("fanout-small-5000", 5000, 3, fanoutTrials, Gap, WarmUp.Steady,
            Target("fan-out p99, small list, 5,000 watchers", "fanout_all_p99_ms", true, 150, "≤ 150 ms", "226 ms")),
        Fanout("fanout-200rows-1000", 1000, 200, fanoutTrials, Gap, WarmUp.Steady,
            Target("fan-out p99, 200-row list, 1,000 watchers", "fanout_all_p99_ms", true, 80, "≤ 80 ms", "184 ms")),
        Fanout("fanout-200rows-2500", 2500, 200, fanoutTrials, Gap, WarmUp.Steady),
        Fanout("fanout-200rows-5000", 5000, 200, fanoutTrials, Gap, WarmUp.Steady,
            Target("fan-out p99, 200-row list, 5,000 watchers", "fanout_all_p99_ms", true, 600, "≤ 600 ms", "1,385 ms")),
        Scale("scale-1000", 1000,
            Target("idle process memory", "idle_process_rss_mb", true, 100, "≤ 100 MB", "about 1 GB")),
        Scale("scale-10000", 10_000,
            Target("memory per idle connection at 10,000", "rss_kb_per_connection", true, 5, "≤ 5 KB", "14–16 KB")),
        Scale("scale-18000", 18_000,
            Target("concurrent connections, no failures", "connect_failures", true, 0, "18,000, 0 failures", "10,000 tested")),
    ];

    /// <summary>Each scenario for a few seconds with tiny counts; only the behaviour checks decide.</summary>
    public static IReadOnlyList<CaseSpec> Smoke() =>
    [
        Handshake("smoke-handshake", 20, 4),
        Beacons("smoke-beacons", 3, 2, TimeSpan.FromSeconds(2), SmokeWarmUp, fresh: false),
        Beacons("smoke-beacons-fresh", 2, 1, TimeSpan.FromSeconds(1), SmokeWarmUp, fresh: true),
        Query("smoke-query", 2, 20, TimeSpan.FromSeconds(1), SmokeWarmUp, 0),
        Query("smoke-query-while-beacons", 2, 20, TimeSpan.FromSeconds(1), SmokeWarmUp, 2),
        Fanout("smoke-fanout", 10, 3, 3, Gap, SmokeWarmUp),
        Fanout("smoke-fanout-full", 10, 40, 2, Gap, SmokeWarmUp),
        Scale("smoke-scale", 50),
    ];

    /// <summary>One scenario with the command line's parameters (the defaults otherwise).</summary>
    /// <exception cref="UsageException">Unknown scenario or a parameter out of range.</exception>
    public static CaseSpec Single(string scenario, Options options) => scenario switch
    {
        "handshake" => Handshake("handshake", options.Int("clients", 1000, 1, 20_000), options.Int("concurrency", 32, 1, 1024)),
        "beacons" => Beacons("beacons", options.Int("clients", 1, 1, 5000), options.Int("window", 1, 1, 64),
            options.Seconds("duration", 10, 1, 600), WarmUpOption(options), options.Flag("fresh-instance")),
        "query" => Query("query", options.Int("readers", 8, 1, 1000), options.Int("rows", 200, 1, 200),
            options.Seconds("duration", 10, 1, 600), WarmUpOption(options), options.Int("beacon-clients", 0, 0, 1000)),
        "fanout" => Fanout("fanout", options.Int("watchers", 1000, 1, 19_000), options.Int("rows", 3, 2, 200),
            options.Int("trials", 20, 1, 1000), options.Seconds("gap", Gap.TotalSeconds, 0.15, 60), WarmUpOption(options)),
        "scale" => Scale("scale", options.Int("connections", 1000, 10, 19_000), options.Seconds("hold", 0, 0, 600)),
        "soak" => Soak(SoakSettings.Parse(options)),
        _ => throw new UsageException($"unknown scenario '{scenario}'"),
    };

    private static CaseSpec Handshake(string name, int clients, int concurrency, params TargetSpec[] targets) =>
        new CaseSpec(name, "handshake", Parameters(("clients", clients), ("concurrency", concurrency)),
            (server, factory, result) => Scenarios.HandshakeAsync(server, factory, result, clients, concurrency), targets);

    /// <summary><c>--warmup S</c>: at least S seconds, then until the server's compiler is idle (0: none at all); a fan-out's warm-up is changes, so it takes only the second part.</summary>
    private static WarmUp WarmUpOption(Options options)
    {
        var minimum = options.Seconds("warmup", WarmUp.Steady.Minimum.TotalSeconds, 0, 120);
        return new WarmUp(minimum, UntilCompilerIdle: minimum > TimeSpan.Zero);
    }

    private static CaseSpec Beacons(string name, int clients, int window, TimeSpan duration, WarmUp warmUp, bool fresh, params TargetSpec[] targets) =>
        new CaseSpec(name, "beacons", Parameters(("clients", clients), ("window", window), ("duration_s", duration.TotalSeconds), ("warmup_min_s", warmUp.Minimum.TotalSeconds), ("instance_id", fresh ? "fresh per request" : "one per client")),
            (server, factory, result) => Scenarios.BeaconsAsync(server, factory, result, clients, window, duration, warmUp, fresh), targets);

    private static CaseSpec Query(string name, int readers, int rows, TimeSpan duration, WarmUp warmUp, int beaconClients, params TargetSpec[] targets) =>
        new CaseSpec(name, "query", Parameters(("readers", readers), ("rows", rows), ("duration_s", duration.TotalSeconds), ("warmup_min_s", warmUp.Minimum.TotalSeconds), ("beacon_clients", beaconClients)),
            (server, factory, result) => Scenarios.QueryAsync(server, factory, result, readers, rows, duration, warmUp, beaconClients), targets);

    /// <summary>Fan-out trials separated by <paramref name="gap"/>: above the gateway's 100 ms broadcast interval, so that every change goes out on its own.</summary>
    private static CaseSpec Fanout(string name, int watchers, int rows, int trials, TimeSpan gap, WarmUp warmUp, params TargetSpec[] targets) =>
        new CaseSpec(name, "fanout", Parameters(("watchers", watchers), ("rows", rows), ("trials", trials), ("gap_ms", gap.TotalMilliseconds)),
            (server, factory, result) => Scenarios.FanoutAsync(server, factory, result, watchers, rows, trials, gap, warmUp.UntilCompilerIdle), targets);

    private static CaseSpec Scale(string name, int connections, params TargetSpec[] targets) => Scale(name, connections, TimeSpan.Zero, targets);

    private static CaseSpec Scale(string name, int connections, TimeSpan hold, params TargetSpec[] targets) =>
        new CaseSpec(name, "scale", Parameters(("connections", connections)),
            (server, factory, result) => Scenarios.ScaleAsync(server, factory, result, connections, hold), targets);

    private static CaseSpec Soak(SoakSettings s) =>
        new CaseSpec("soak", "soak", Parameters(("duration_s", s.Duration.TotalSeconds), ("churn_per_s", s.Rate), ("churn_beacons", s.ChurnBeacons),
                ("steady_clients", s.Steady), ("steady_every_s", s.SteadyEvery.TotalSeconds), ("key_pool", s.KeyPool), ("sample_every_s", s.SampleEvery.TotalSeconds),
                ("warmup_s", s.WarmUp.TotalSeconds), ("window_s", s.Window.TotalSeconds), ("max_drift_pct", s.MaxDriftPct)),
            (server, factory, result) => LoadTest.Soak.RunAsync(server, factory, result, s), []);

    private static TargetSpec Target(string figure, string metric, bool atMost, double bound, string target, string reference) =>
        new(figure, metric, atMost, bound, target, reference);

    private static Dictionary<string, string> Parameters(params (string Name, object Value)[] values) =>
        values.ToDictionary(v => v.Name, v => Convert.ToString(v.Value, CultureInfo.InvariantCulture) ?? "");
}
