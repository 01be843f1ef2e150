using Presence.Actors.TestKit;
using Xunit;

namespace Presence.Samples.Tests;

public class OfficeDaySample
{
    [Fact]
    public async Task An_office_of_120_laptops_follows_the_presence_rules()
    {
        var result = await PresenceScenario.Create(seed: 2026)
            .Clients(120, i => SimulatedClient.Stable($"laptop-{i}"), (i, laptop) =>
            {
                laptop.ConnectWithin(TimeSpan.FromMinutes(20)).BeaconEvery(TimeSpan.FromSeconds(60), jitter: TimeSpan.FromSeconds(10));
                if (i % 20 == 0) laptop.Flap(every: TimeSpan.FromMinutes(10), offline: TimeSpan.FromSeconds(30));
                if (i % 3 == 0) laptop.GoSilentAt(TimeSpan.FromMinutes(60));    // lid closed: no close, the TTL removes it
                if (i % 4 == 1) laptop.DisconnectAt(TimeSpan.FromMinutes(80));  // quit (unless asleep): left, then expired
            })
            .RunAsync(TimeSpan.FromHours(2));

        result.ShouldFollowThePresenceRules();
        Assert.Equal(1 + 120 - 40 - 20, result.FinalList.Entries.Length);  // the gateway and the laptops still there
        result.WriteTimelineSvg("office-day.svg");
    }
}
