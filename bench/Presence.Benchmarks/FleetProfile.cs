using System.Diagnostics;
using System.Globalization;

namespace Presence.Benchmarks;

/// <summary>
/// <c>fleet-profile [minutes]</c>: replays issue 13's fleet trace for that many virtual minutes (1–120, default 10) on
/// the engine alone, a warm-up then three timed runs with each kind of reader (<see cref="FleetReaders"/>), and prints the cost per command
/// and what it makes of the ~15 M commands of 10,000 clients over 24 virtual hours. Quicker than the
/// BenchmarkDotNet suite, for a first look or an A/B loop; the suite's figures are the ones to quote.
/// </summary>
internal static class FleetProfile
{
    private const int MaxMinutes = 120;
    private const int Runs = 3;

    public static int Run(string[] args)
    {
        var minutes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        if (minutes is < 1 or > MaxMinutes)
        {
            Console.Error.WriteLine($"fleet-profile: minutes must be 1..{MaxMinutes}");
            return 2;
        }
        var trace = FleetTrace.Generate(FleetTrace.FleetClients, minutes);
        var perMinute = (double)trace.Commands.Length / minutes;
        var dayCommands = perMinute * 24 * 60;
        Console.WriteLine($"fleet: {FleetTrace.FleetClients} clients, {minutes} virtual min, {trace.Commands.Length} commands; load {LoadAverage()}");
        foreach (var readers in Enum.GetValues<FleetReaders>())
        {
            trace.Replay(readers);
            for (var run = 0; run < Runs; run++)
            {
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                var gen0 = GC.CollectionCount(0);
                var clock = Stopwatch.StartNew();
                var replay = trace.Replay(readers);
                clock.Stop();
                var nsPerCommand = clock.Elapsed.TotalNanoseconds / replay.Commands;
                var bytesPerCommand = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / replay.Commands;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{readers,-6} run {run + 1}: {clock.Elapsed.TotalMilliseconds:F0} ms, {nsPerCommand:F0} ns/command, {bytesPerCommand:F0} B/command, gen0 {GC.CollectionCount(0) - gen0}, snapshots {replay.Snapshots}, evicted {replay.Evicted}, version {replay.Version}; 24 h ({dayCommands / 1e6:F1} M commands) ≈ {nsPerCommand * dayCommands / 1e9:F1} s"));
            }
        }
        Console.WriteLine($"load {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
