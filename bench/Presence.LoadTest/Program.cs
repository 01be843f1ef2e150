using System.Globalization;
using Presence.LoadTest;

const string Usage = """
    Presence.LoadTest: load scenarios for the presence gateway over real WebSockets on 127.0.0.1.

    usage: Presence.LoadTest <command> [options]

    commands:
      handshake   --clients 1000 --concurrency 32
      beacons     --clients 1 --window 1 --duration 10 [--fresh-instance]
      query       --readers 8 --rows 200 --duration 10 [--beacon-clients 10]
      fanout      --watchers 1000 --rows 3 --trials 20 [--gap 0.3]
      scale       --connections 1000
      soak        --duration 1800 --rate 10 --churn-beacons 2 --steady 50 --steady-every 5 --key-pool 200
                  [--sample-every S] [--warmup S] [--window S] [--max-drift 5]
                  churn and long-lived clients at a fixed rate; RSS, threads, handles and live
                  ConnectionActors must stay flat; the warm-up lasts past --warmup until the server's
                  compiler is idle and its GC has collected gen1; last line "soak: N passed, N failed"
      all         the full table of issue 6 [--cases name,name] [--duration 10] [--trials 20]
      smoke       every scenario for a few seconds with tiny counts; asserts behaviour only
      report      --runs A.json[,B.json] [--stub S.json] [--doc docs/performance.md] [--charts docs/perf]
                  rewrites the doc's generated results section and its SVG charts from earlier runs' JSON
      stub-server --port P   (the minimal server that measures the tool's own ceiling)

    server (default: start the gateway, pinned to core 0, fresh for each case):
      --server gateway|stub|floor-instant|floor-serialise-once
                                which server to start; the floors are the Node ws servers of
                                ../shared/bench (Node 24 and ws from tests/compat/node_modules)
      --gateway-dll PATH        default src/Presence.Gateway/bin/Release/net10.0/Presence.Gateway.dll
      --url ws://127.0.0.1:P    attach to a running server instead (one server for all cases)
      --pid N                   its pid, for server CPU and memory from /proc
      --token T                 the shared secret, for a gateway started with --auth token
      --server-env K=V,K=V      environment for the server the tool starts (e.g. runtime switches to A/B)

    other:
      --out DIR                 where the JSON and Markdown reports go (default artifacts/loadtest)
      --sources N               loopback source addresses 127.0.0.2… to spread connections over (default 8)
      --no-pin                  do not re-run the tool under taskset -c 1
    """;

Options options;
try
{
    options = Options.Parse(args);
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync($"{ex.Message}\n\n{Usage}");
    return 2;
}
if (options.Command is "help" or "--help")
{
    Console.WriteLine(Usage);
    return 0;
}
if (options.Command == "stub-server")
    return await StubServer.RunAsync(options.Int("port", 18790, 1, 65535));

// Only the load runs are pinned: the report reads files.
if (options.Command != "report" && !Relaunch.IsPinned && !options.Flag("no-pin"))
    return await Relaunch.RunPinnedAsync(1, args);

try
{
    return options.Command == "report"
        ? await PerformanceReport.RunAsync(options)
        : await Runner.RunAsync(options, string.Join(' ', args));
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync($"{ex.Message}\n\n{Usage}");
    return 2;
}
catch (LoadException ex)
{
    await Console.Error.WriteLineAsync($"load test failed: {ex.Message}");
    return 1;
}

namespace Presence.LoadTest
{
    /// <summary>Runs the chosen cases, each against its own freshly started server unless attached, and writes the report.</summary>
    internal static class Runner
    {
        public static async Task<int> RunAsync(Options options, string commandLine)
        {
            var smoke = options.Command == "smoke";
            IReadOnlyList<CaseSpec> cases = options.Command switch
            {
                "smoke" => Suite.Smoke(),
                "all" => Suite.Full(options.Seconds("duration", 10, 1, 600), options.Int("trials", 20, 1, 1000)),
                var scenario => [Suite.Single(scenario, options)],
            };
            if (options.String("cases") is { } only)
            {
                var names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                cases = cases.Where(c => names.Contains(c.Name)).ToList();
                if (cases.Count == 0)
                    throw new UsageException($"no case named {only}");
            }
            var kind = options.String("server") switch
            {
                null or "gateway" => ServerKind.Gateway,
                "stub" => ServerKind.Stub,
                "floor-instant" => ServerKind.FloorInstant,
                "floor-serialise-once" => ServerKind.FloorSerialiseOnce,
                var other => throw new UsageException($"unknown server '{other}'"),
            };
            Uri? url = options.String("url") is { } u ? new Uri(u) : null;
            int? pid = options.String("pid") is { } p ? int.Parse(p, CultureInfo.InvariantCulture) : null;
            var gatewayDll = options.String("gateway-dll") ?? FindGateway();
            LoadSettings.Token = options.String("token");
            var sources = options.Int("sources", 8, 1, 200);
            var serverEnvironment = (options.String("server-env") ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(pair => pair.Split('=', 2) is [var key, var value] ? (key, value) : throw new UsageException($"--server-env wants KEY=VALUE pairs, got '{pair}'"))
                .ToDictionary(pair => pair.key, pair => pair.value);
            var outDir = options.String("out") ?? Path.Combine("artifacts", "loadtest");
            options.RejectUnknown();

            var report = new Report($"Presence.LoadTest {commandLine}", Machine.Describe());
            // Others may rebuild the gateway while a run goes on: every case of one run starts the same private copy.
            using var snapshot = url is null && kind == ServerKind.Gateway ? GatewaySnapshot.Take(gatewayDll) : null;
            if (snapshot is not null)
            {
                gatewayDll = snapshot.Dll;
                report.Gateway = snapshot.Description;
            }
            foreach (var spec in cases)
            {
                var result = spec.NewResult();
                try
                {
                    await using var server = url is null
                        ? await ServerProcess.StartAsync(kind, gatewayDll, core: 0, serverEnvironment).ConfigureAwait(false)
                        : ServerProcess.Attach(url, pid);
                    result.Server = server.Description;
                    using var factory = new ClientFactory(server.Url, sources);
                    await spec.Run(server, factory, result).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is LoadException or IOException or System.Net.WebSockets.WebSocketException or HttpRequestException or OperationCanceledException)
                {
                    result.Check("ran to completion", false, ex.GetType().Name + ": " + ex.Message);
                }
                report.Add(spec, result);
                PrintCase(result);
            }
            report.Machine.LoadAverageEnd = Machine.LoadAverage();
            var (json, markdown) = await report.WriteAsync(outDir).ConfigureAwait(false);
            Console.WriteLine($"report: {markdown}\n        {json}");
            var failed = report.Cases.Count(c => !c.Passed);
            if (smoke)
                Console.WriteLine($"load smoke: {report.Cases.Count - failed} passed, {failed} failed");
            // The soak is one case judged by several checks: each counts on its own.
            if (options.Command == "soak")
            {
                var checks = report.Cases.SelectMany(c => c.Checks).ToList();
                Console.WriteLine($"soak: {checks.Count(c => c.Passed)} passed, {checks.Count(c => !c.Passed)} failed");
            }
            return failed == 0 ? 0 : 1;
        }

        private static void PrintCase(CaseResult result)
        {
            var figures = string.Join(", ", result.Metrics
                .Where(m => m.Name.Contains("per_s", StringComparison.Ordinal) || m.Name.Contains("p99", StringComparison.Ordinal)
                    || m.Name.StartsWith("server_cpu_us", StringComparison.Ordinal) || m.Name.Contains("per_connection", StringComparison.Ordinal)
                    || m.Name.EndsWith("_drift_pct", StringComparison.Ordinal))
                .Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {m.Value:0.##}")));
            Console.WriteLine($"{(result.Passed ? "PASS" : "FAIL")} {result.Name}: {figures}");
            foreach (var check in result.Checks.Where(c => !c.Passed))
                Console.WriteLine($"     ✘ {check.Name}: {check.Detail}");
        }

        /// <summary>The Release build of the gateway in the repository this tool was built from.</summary>
        private static string FindGateway() =>
            Path.Combine(Repository.Root(), "src", "Presence.Gateway", "bin", "Release", "net10.0", "Presence.Gateway.dll");
    }

    internal static class Repository
    {
        /// <summary>The checkout this tool was built from.</summary>
        public static string Root()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Presence.Actors.sln")))
                    return dir.FullName;
            }
            throw new UsageException("cannot find the repository; pass --gateway-dll");
        }
    }
}
