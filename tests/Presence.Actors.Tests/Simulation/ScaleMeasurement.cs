using System.Diagnostics;
using Presence.Actors.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Presence.Actors.Tests.Simulation;

/// <summary>
/// The kit's scale figure for <c>docs/benchmarks.md</c>: 10,000 clients over 24 virtual hours. A run that reports, not a check:
/// <c>dotnet test tests/Presence.Actors.Tests -c Release --filter Category=Measurement --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class ScaleMeasurement(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Measurement")]
    [InlineData(10_000, 24)]
    [InlineData(1_000, 1)]
    public async Task Simulates_clients_for_hours_of_virtual_time(int clients, int hours)
    {
        var watch = Stopwatch.StartNew();
        var allocated = GC.GetTotalAllocatedBytes();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var result = await Scenarios.Fleet(seed: 7, clients).Readers(1, keepEveryList: false).RunAsync(TimeSpan.FromHours(hours));
        watch.Stop();

        output.WriteLine($"{clients} clients x {hours} h: {watch.Elapsed.TotalSeconds:0.0} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.0} s CPU, {(GC.GetTotalAllocatedBytes() - allocated) / 1e9:0.0} GB allocated, "
            + $"{result.Clients.Beacons:N0} beacons, {result.Clients.Connects:N0} connects, {result.Clients.Disconnects:N0} disconnects, "
            + $"{result.Readers[0].Count:N0} presence events, {result.Timeline.Count:N0} samples, rows +{result.Rows.Added:N0} expired {result.Rows.Expired:N0} evicted {result.Rows.Evicted:N0}");
        result.ShouldFollowThePresenceRules();
    }
}
