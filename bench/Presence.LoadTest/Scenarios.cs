using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Presence.LoadTest;

/// <summary>The five scenarios of issue 6. Each returns one <see cref="CaseResult"/> with its figures and its behaviour checks.</summary>
internal static class Scenarios
{
    /// <summary>How long loops may take to finish their last request after a load stops.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private const int FanoutWarmUpChanges = 5;
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(60);

    /// <summary>Marks this run's fan-out changes, so that rows left by an earlier run against the same server never match.</summary>
    private static readonly string RunId = Guid.NewGuid().ToString("N")[..8];

    /// <summary>N clients, C at a time, each to hello-ok, after an unmeasured warm-up; connections stay open until the measurement ends.</summary>
    public static async Task<CaseResult> HandshakeAsync(ServerProcess server, ClientFactory factory, CaseResult result, int clients, int concurrency)
    {
        // Unmeasured warm-up: the server is a fresh process, and its first handshakes pay for JIT, not for the protocol.
        var warmUp = await Clients.ConnectAsync(factory, Math.Min(100, clients), concurrency, Identity.Admin, null, result.Name + " warm-up").ConfigureAwait(false);
        await Clients.CloseAllAsync(warmUp.Clients).ConfigureAwait(false);
        var cpu = CpuWindow.Start(server);
        var opened = await Clients.ConnectAsync(factory, clients, concurrency, Identity.Admin, null, result.Name).ConfigureAwait(false);
        var wall = cpu.Stop(result, opened.Clients.Count, "handshake");
        result.Metric("handshakes_per_s", opened.Clients.Count / wall, "/s");
        AddLatencies(result, "handshake", opened.Latencies);
        result.Check("every client reached hello-ok", opened.Failures == 0, $"{opened.Clients.Count}/{clients} ok; first failure: {opened.FirstFailure ?? "none"}");
        await Clients.CloseAllAsync(opened.Clients).ConfigureAwait(false);
        return result;
    }

    /// <summary>M admin clients send system-event beacons, <paramref name="window"/> in flight each; they all read presence too.</summary>
    public static async Task<CaseResult> BeaconsAsync(ServerProcess server, ClientFactory factory, CaseResult result, int clients, int window, TimeSpan duration, WarmUp warmUp, bool freshInstance)
    {
        var opened = await Clients.ConnectAsync(factory, clients, 32, Identity.Admin, null, result.Name + " connect").ConfigureAwait(false);
        RequireAll(result, opened, clients);
        var beacon = BeaconParams(freshInstance, "lt-b");
        var load = await MeasureAsync(server, result, opened.Clients, window, "system-event", beacon, duration, warmUp, "beacon").ConfigureAwait(false);
        result.Metric("presence_events_per_client_per_s", opened.Clients.Sum(c => c.PresenceEvents) / (double)clients / result.Value("wall_s")!.Value, "/s");
        AddAnsweredChecks(result, load);
        await Clients.CloseAllAsync(opened.Clients).ConfigureAwait(false);
        return result;
    }

    /// <summary>R readers ask system-presence, one in flight each, on a list of <paramref name="rows"/> rows; optionally while B clients beacon.</summary>
    public static async Task<CaseResult> QueryAsync(ServerProcess server, ClientFactory factory, CaseResult result, int readers, int rows, TimeSpan duration, WarmUp warmUp, int beaconClients)
    {
        await FillAsync(factory, rows - 1).ConfigureAwait(false);
        var opened = await Clients.ConnectAsync(factory, readers, 32, Identity.Reader, null, result.Name + " connect").ConfigureAwait(false);
        RequireAll(result, opened, readers);
        Clients.Opened? beaconing = null;
        RequestLoad? background = null;
        var backgroundPhase = new LoadPhase();
        if (beaconClients > 0)
        {
            beaconing = await Clients.ConnectAsync(factory, beaconClients, 32, Identity.Admin, null, result.Name + " beacons connect", readers).ConfigureAwait(false);
            RequireAll(result, beaconing, beaconClients);
            // The beacons rewrite rows already in the list, so that it keeps exactly the rows asked for.
            var rewrite = beaconing.Clients.Select(c => Frames.Beacon(FillId(c.Index % Math.Max(1, rows - 1)), c.Index, 7)).ToArray();
            background = RequestLoad.Start(beaconing.Clients, 1, "system-event", (c, _) => rewrite[c.Index - readers], backgroundPhase);
        }
        var load = await MeasureAsync(server, result, opened.Clients, 1, "system-presence", static (_, _) => Frames.WriteEmptyObject, duration, warmUp, "query").ConfigureAwait(false);
        result.Metric("response_bytes", load.LastReplyBytes, "B");
        AddAnsweredChecks(result, load);
        if (background is not null)
        {
            backgroundPhase.Stop();
            await background.StopAsync(StopGrace).ConfigureAwait(false);
            result.Metric("background_beacons_answered", background.Answered, "");
            result.Check("every background beacon answered", background.Lost == 0 && background.Errors == 0, background.Status);
            await Clients.CloseAllAsync(beaconing!.Clients).ConfigureAwait(false);
        }
        await Clients.CloseAllAsync(opened.Clients).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// W idle readers; one admin changes its row, isolated changes at least <paramref name="gap"/>
    /// apart; the time until every watcher holds a presence event carrying that change.
    /// </summary>
    public static async Task<CaseResult> FanoutAsync(ServerProcess server, ClientFactory factory, CaseResult result, int watchers, int rows, int trials, TimeSpan gap, bool untilCompilerIdle)
    {
        // Self row + filler rows + the changer's row = rows.
        await FillAsync(factory, rows - 2).ConfigureAwait(false);
        var probe = new ChangeProbe(watchers);
        var opened = await Clients.ConnectAsync(factory, watchers, 64, Identity.Reader, probe, result.Name + " connect").ConfigureAwait(false);
        RequireAll(result, opened, watchers);
        if (opened.Failures > 0)
        {
            await Clients.CloseAllAsync(opened.Clients).ConfigureAwait(false);
            return result;
        }
        await using var changer = await GatewayClient.ConnectAsync(factory, Identity.Admin, watchers, null, CancellationToken.None).ConfigureAwait(false);
        // The fill's own broadcasts must be delivered before the first trial, or they would count as events per change.
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);

        // Unmeasured warm-up changes, as for the other cases: a fresh server's first fan-outs pay for tiered JIT on its
        // one core (perf: 40 % of the first trials' CPU in the JIT), not for the sends. Their slowest is kept as its own figure.
        // At least five, then, if asked, on until the server's compiler is idle (on one core it delays tier-up; see CompilerWatch).
        var warmUp = new Latencies();
        var compiler = new CompilerWatch(server);
        var warmUpStarted = Stopwatch.GetTimestamp();
        var warmUpChanges = 0;
        while (warmUpChanges < FanoutWarmUpChanges || (untilCompilerIdle && !compiler.Idle() && Stopwatch.GetElapsedTime(warmUpStarted) < MaxWarmUp))
        {
            var arrivals = await ChangeOnceAsync(changer, probe, trials + warmUpChanges++, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (arrivals.Length > 0)
                warmUp.Add(arrivals[^1]);
            await Task.Delay(gap).ConfigureAwait(false);
        }
        result.Metric("fanout_warmup_max_ms", warmUp.Max, "ms");
        result.Metric("fanout_warmup_changes", warmUpChanges, "");

        var all = new Latencies();
        var median = new Latencies();
        var missed = 0;
        var trial = 0;
        var eventsBefore = opened.Clients.Sum(c => c.PresenceEvents);
        var bytesBefore = opened.Clients.Sum(c => c.PresenceBytes);
        var cpu = CpuWindow.Start(server);
        using (new ProgressLine(result.Name, () => string.Create(CultureInfo.InvariantCulture, $"trial {trial}/{trials}, p50 {all.Percentile(50):0.0} ms, missed {missed}")))
        {
            for (; trial < trials; trial++)
            {
                var arrivals = await ChangeOnceAsync(changer, probe, trial, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                missed += watchers - arrivals.Length;
                if (arrivals.Length > 0)
                {
                    all.Add(arrivals[^1]);
                    median.Add(arrivals[arrivals.Length / 2]);
                }
                await Task.Delay(gap).ConfigureAwait(false);
            }
        }
        // The gaps are idle time; CPU per change is still exact, since nothing else runs.
        cpu.Stop(result, trials, "change");
        var events = opened.Clients.Sum(c => c.PresenceEvents) - eventsBefore;
        var bytes = opened.Clients.Sum(c => c.PresenceBytes) - bytesBefore;
        AddLatencies(result, "fanout_all", all);
        result.Metric("fanout_median_watcher_p50_ms", median.Percentile(50), "ms");
        result.Metric("events_per_watcher_per_change", events / (double)watchers / trials, "");
        result.Metric("bytes_per_event", events == 0 ? 0 : bytes / (double)events, "B");
        result.Metric("missed_deliveries", missed, "");
        result.Check("every watcher got every change", missed == 0, $"{missed} of {watchers * trials} deliveries missing");
        await Clients.CloseAllAsync(opened.Clients).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// K idle readers: server memory per connection, and whether one change still reaches all of them.
    /// The connections stay open for <paramref name="hold"/> at the end, for inspecting the server (dotnet-gcdump, dotnet-counters).
    /// </summary>
    public static async Task<CaseResult> ScaleAsync(ServerProcess server, ClientFactory factory, CaseResult result, int connections, TimeSpan hold)
    {
        await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        if (server.Sample() is { } idle)
            result.Metric("idle_process_rss_mb", idle.RssBytes / 1048576.0, "MB");
        var probe = new ChangeProbe(connections);
        // A first batch warms up the server's code paths and pools, so that the per-connection figure is the connections' own.
        var baseline = Math.Min(200, connections / 10);
        var first = await Clients.ConnectAsync(factory, baseline, 64, Identity.Reader, probe, result.Name + " warm-up").ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var before = server.Sample();
        var rest = await Clients.ConnectAsync(factory, connections - baseline, 64, Identity.Reader, probe, result.Name + " connect", baseline).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var after = server.Sample();
        var open = first.Clients.Concat(rest.Clients).ToList();
        var failures = first.Failures + rest.Failures;
        result.Metric("connected", open.Count, "");
        result.Metric("connect_failures", failures, "");
        result.Check("every connection reached hello-ok", failures == 0, $"{open.Count}/{connections}; first failure: {first.FirstFailure ?? rest.FirstFailure ?? "none"}");
        if (before is { } b && after is { } a && rest.Clients.Count > 0)
        {
            result.Metric("server_rss_mb", a.RssBytes / 1048576.0, "MB");
            result.Metric("server_threads", a.Threads, "");
            result.Metric("rss_kb_per_connection", (a.RssBytes - b.RssBytes) / 1024.0 / rest.Clients.Count, "KB");
        }
        await using (var changer = await GatewayClient.ConnectAsync(factory, Identity.Admin, connections, null, CancellationToken.None).ConfigureAwait(false))
        {
            var reached = await ChangeOnceAsync(changer, probe, 0, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            result.Metric("change_reached", reached.Length, "");
            if (reached.Length > 0)
                result.Metric("change_all_ms", reached[^1], "ms");
            result.Check("the change reached every connection", reached.Length == open.Count && open.Count == connections, $"{reached.Length}/{connections}");
        }
        if (hold > TimeSpan.Zero)
        {
            await Console.Error.WriteLineAsync($"holding {open.Count} connections for {hold.TotalSeconds:0} s").ConfigureAwait(false);
            await Task.Delay(hold).ConfigureAwait(false);
        }
        await Clients.CloseAllAsync(open).ConfigureAwait(false);
        return result;
    }

    /// <summary>Warm-up, then a measured window with server CPU per answered request, then a bounded stop.</summary>
    private static async Task<RequestLoad> MeasureAsync(ServerProcess server, CaseResult result, IReadOnlyList<GatewayClient> clients, int window, string method,
        Func<GatewayClient, long, Action<Utf8JsonWriter>?> paramsFor, TimeSpan duration, WarmUp warmUp, string perWhat)
    {
        var phase = new LoadPhase();
        var load = RequestLoad.Start(clients, window, method, paramsFor, phase);
        using (new ProgressLine(result.Name, () => load.Status))
        {
            // Warm-up: tiered JIT and pools settle before anything is counted.
            result.Metric("warmup_s", await WarmUpAsync(server, warmUp).ConfigureAwait(false), "s");
            var answeredBefore = load.Answered;
            phase.BeginMeasure();
            var cpu = CpuWindow.Start(server);
            await Task.Delay(duration).ConfigureAwait(false);
            phase.EndMeasure();
            var answered = load.Answered - answeredBefore;
            var wall = cpu.Stop(result, answered, perWhat);
            phase.Stop();
            result.Metric(perWhat == "query" ? "queries_per_s" : $"{perWhat}s_per_s", answered / wall, "/s");
            AddLatencies(result, perWhat, load.Latencies);
            await load.StopAsync(StopGrace).ConfigureAwait(false);
        }
        return load;
    }

    /// <summary>
    /// Runs the load already started unmeasured for at least <paramref name="warmUp"/>'s minimum, then, if it asks,
    /// until the server's compiler is idle (<see cref="CompilerWatch"/>, at most <see cref="MaxWarmUp"/> in all);
    /// returns the seconds it took, every server alike.
    /// </summary>
    private static async Task<double> WarmUpAsync(ServerProcess server, WarmUp warmUp)
    {
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(warmUp.Minimum).ConfigureAwait(false);
        var compiler = new CompilerWatch(server);
        while (warmUp.UntilCompilerIdle && !compiler.Idle() && Stopwatch.GetElapsedTime(started) < MaxWarmUp)
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// The changer beacons a row whose instanceId and text carry a unique marker: a new row each trial (the
    /// oldest evicted once the list is full), which is the same work for the gateway and for the serialise-once
    /// floor server, whose rows show the instanceId but not the text. Returns, sorted, each
    /// watcher's time (ms from the send) until it held that change. The wait is bounded by
    /// <paramref name="timeout"/>; a watcher still without the change is left out.
    /// </summary>
    private static async Task<double[]> ChangeOnceAsync(GatewayClient changer, ChangeProbe probe, int trial, TimeSpan timeout)
    {
        var marker = $"lt-mark-{RunId}-{trial}";
        var everyone = probe.Arm(trial, marker);
        var sentAt = Stopwatch.GetTimestamp();
        var reply = await changer.RequestAsync("system-event", Frames.Beacon(marker, 99_999, trial, $"Node: lt-changer · {marker}"), CancellationToken.None).ConfigureAwait(false);
        if (!reply.Ok)
            throw new LoadException($"the change was refused: {changer.FirstError}");
        await Task.WhenAny(everyone, Task.Delay(timeout)).ConfigureAwait(false);
        probe.Disarm();
        return probe.Arrivals.ToArray().Where(t => t != 0).Select(t => ChangeProbe.Milliseconds(sentAt, t)).Order().ToArray();
    }

    private static Func<GatewayClient, long, Action<Utf8JsonWriter>?> BeaconParams(bool freshInstance, string prefix)
    {
        if (freshInstance)
            return (c, n) => Frames.Beacon(string.Create(CultureInfo.InvariantCulture, $"{prefix}{c.Index:D5}-{n}"), c.Index, n % 600);
        // One params writer per client, made once: the steady state sends the same beacon again and again.
        var cache = new System.Collections.Concurrent.ConcurrentDictionary<int, Action<Utf8JsonWriter>>();
        return (c, _) => cache.GetOrAdd(c.Index, i => Frames.Beacon(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i:D5}"), i, 5));
    }

    private static string FillId(int i) => string.Create(CultureInfo.InvariantCulture, $"lt-fill-{i:D4}");

    /// <summary>Adds <paramref name="count"/> rows through one admin client, one beacon at a time.</summary>
    private static async Task FillAsync(ClientFactory factory, int count)
    {
        if (count <= 0)
            return;
        await using var filler = await GatewayClient.ConnectAsync(factory, Identity.Admin, 0, null, CancellationToken.None).ConfigureAwait(false);
        for (var i = 0; i < count; i++)
        {
            var reply = await filler.RequestAsync("system-event", Frames.Beacon(FillId(i), i, 30), CancellationToken.None).ConfigureAwait(false);
            if (!reply.Ok)
                throw new LoadException($"filling the list failed: {filler.FirstError}");
        }
    }

    private static void RequireAll(CaseResult result, Clients.Opened opened, int expected) =>
        result.Check("every client connected", opened.Failures == 0, $"{opened.Clients.Count}/{expected}; first failure: {opened.FirstFailure ?? "none"}");

    private static void AddAnsweredChecks(CaseResult result, RequestLoad load)
    {
        result.Metric("requests_sent", load.Sent, "");
        result.Metric("requests_lost", load.Lost, "");
        result.Metric("error_responses", load.Errors, "");
        result.Check("every request answered", load.Lost == 0 && load.Answered == load.Sent, load.Status);
        result.Check("no error responses", load.Errors == 0, load.Status);
    }

    private static void AddLatencies(CaseResult result, string what, Latencies latencies)
    {
        result.Metric($"{what}_p50_ms", latencies.Percentile(50), "ms");
        result.Metric($"{what}_p99_ms", latencies.Percentile(99), "ms");
        result.Metric($"{what}_max_ms", latencies.Max, "ms");
        result.Metric($"{what}_samples", latencies.Count, "");
    }
}
