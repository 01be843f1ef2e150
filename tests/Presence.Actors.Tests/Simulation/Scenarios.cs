using Presence.Actors.TestKit;

namespace Presence.Actors.Tests.Simulation;

/// <summary>The scenarios the specs share.</summary>
internal static class Scenarios
{
    /// <summary>
    /// The fleet: clients with stable ids beaconing every 60 s ± 10 s after connecting within the first minute,
    /// one in twenty flapping (a drop every 10 min ± 3 min, back 20 s later).
    /// </summary>
    public static PresenceScenario Fleet(int seed, int clients) =>
        PresenceScenario.Create(seed).Clients(clients, i => SimulatedClient.Stable($"client-{i:D5}"), (i, script) =>
        {
            script.ConnectWithin(TimeSpan.FromMinutes(1)).BeaconEvery(TimeSpan.FromSeconds(60), jitter: TimeSpan.FromSeconds(10));
            if (i % 20 == 0)
                script.Flap(every: TimeSpan.FromMinutes(10), offline: TimeSpan.FromSeconds(20), jitter: TimeSpan.FromMinutes(3));
        });
}
