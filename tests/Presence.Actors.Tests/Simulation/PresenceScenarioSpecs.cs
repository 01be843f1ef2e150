using System.Security.Cryptography;
using Presence.Actors.Domain;
using Presence.Actors.TestKit;
using Xunit;
using Xunit.Sdk;

namespace Presence.Actors.Tests.Simulation;

/// <summary>The kit against the real manager: what it simulates, what it observes, and that the same seed gives the same bytes.</summary>
public sealed class PresenceScenarioSpecs
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Should_give_the_same_events_byte_for_byte_for_the_same_seed_and_others_for_another_seed()
    {
        // 60 clients against a 50-row bound keep each list short enough to hold every event's bytes.
        static Task<PresenceSimulationResult> Run(int seed) =>
            Mixed(seed, clients: 60).WithSettings("presence.max-entries = 50").Readers(2).RunAsync(TimeSpan.FromMinutes(30));

        var first = await Run(seed: 42);
        var again = await Run(seed: 42);
        var other = await Run(seed: 43);

        var digest = Digest(first);
        Assert.True(first.Readers[0].Count > 500, $"only {first.Readers[0].Count} events");
        Assert.True(first.Rows.Evicted > 0 && first.Clients.Disconnects > 0, "the run exercised neither the bound nor flapping");
        Assert.Equal(digest, Digest(again));
        Assert.Equal(digest, Digest(first, reader: 1));
        Assert.NotEqual(digest, Digest(other));
    }

    [Fact]
    public async Task Should_follow_the_presence_rules_with_flapping_clients_clients_without_instance_ids_and_the_200_row_bound()
    {
        var result = await Mixed(seed: 7, clients: 250).RunAsync(TimeSpan.FromMinutes(10));

        result.ShouldFollowThePresenceRules();
        Assert.Equal(200, result.FinalList.Entries.Length);
        Assert.True(result.Rows.Evicted > 0, "the bound never pushed a row out");
        Assert.True(result.Clients.Disconnects > 0 && result.Clients.Connects > result.Clients.Disconnects);
    }

    [Fact]
    public async Task Should_show_a_silent_client_active_then_idle_then_stale_and_expire_it_one_ttl_after_its_last_beacon()
    {
        var result = await PresenceScenario.Create()
            .WithSettings("presence { ttl = 10m, sweep-interval = 1s }")
            .Client(SimulatedClient.Stable("laptop"), client => client.BeaconEvery(Minute).GoSilentAt(TimeSpan.FromSeconds(90)))
            .RunAsync(TimeSpan.FromMinutes(12));

        // Its last beacon went out at 1:00; the silence at 1:30 sends nothing, and no close either.
        Assert.Equal(PresenceStatus.Active, Status(result, "laptop", TimeSpan.FromMinutes(3)));
        Assert.Equal(PresenceStatus.Idle, Status(result, "laptop", TimeSpan.FromMinutes(5)));
        Assert.Equal(PresenceStatus.Stale, Status(result, "laptop", TimeSpan.FromMinutes(10)));
        var expired = Assert.Single(result.RowChanges, change => change.Kind == RowChangeKind.Expired);
        Assert.Equal("laptop", expired.Row);
        Assert.InRange(expired.At, TimeSpan.FromMinutes(11), TimeSpan.FromSeconds(11 * 60 + 1));
        result.ShouldFollowThePresenceRules();
    }

    [Fact]
    public async Task Should_keep_a_disconnected_row_marked_left_until_the_ttl_and_renew_a_live_connection_on_every_pong()
    {
        var result = await PresenceScenario.Create()
            .Client(SimulatedClient.Stable("leaves"), client => client.DisconnectAt(Minute))
            .Client(SimulatedClient.Stable("stays"), client => client.KeepAlive(TimeSpan.FromSeconds(25)))
            .Client(SimulatedClient.Stable("no-pong"))
            .RunAsync(TimeSpan.FromMinutes(8));

        var left = Row(result, "leaves", TimeSpan.FromMinutes(2));
        Assert.Equal(("disconnect", "leaves"), (left.Reason, left.Host));
        Assert.Equal(PresenceStatus.Left, PresenceStatuses.Of(left, result.GatewayTime(TimeSpan.FromMinutes(2))));
        // Both rows without renewal leave one TTL after their last update; the pinged one never does, and its pongs announce nothing.
        Assert.Equal(["stays"], result.FinalList.Entries.Skip(1).Select(row => row.InstanceId));
        Assert.Equal(2, result.Rows.Expired);
        Assert.Equal(PresenceStatus.Active, Status(result, "stays", result.Duration));
        Assert.Equal(8 * 60 / 25, result.Clients.Pongs);
        result.ShouldFollowThePresenceRules();
    }

    [Fact]
    public async Task Should_list_a_client_that_reconnects_without_an_instance_id_twice_and_one_that_keeps_it_once()
    {
        var result = await PresenceScenario.Create()
            .Client(SimulatedClient.Stable("stable"), client => client.DisconnectAt(Minute).ReconnectAt(2 * Minute))
            .Client(SimulatedClient.Stable("forgetful"), client => client.DisconnectAt(Minute).ReconnectAt(2 * Minute, keepInstanceId: false))
            .Client(new SimulatedClient("cli") { Mode = "cli" }, client => client.BeaconEvery(Minute))
            .RunAsync(TimeSpan.FromMinutes(3));

        var rows = result.FinalList.Entries.Skip(1).ToList();
        Assert.Single(rows, row => row.Host == "stable");
        // The old row (marked left) and the new one keyed by its connection: the duplicate the rules call expected.
        Assert.Equal(["connect", "disconnect"], rows.Where(row => row.Host == "forgetful").Select(row => row.Reason).Order());
        // An untracked mode never gets a row from its connection; its beacons still make one, keyed by host.
        Assert.Equal("periodic", Assert.Single(rows, row => row.Host == "cli").Reason);
        result.ShouldFollowThePresenceRules();
    }

    [Fact]
    public async Task Should_fail_a_rule_with_the_list_that_breaks_it()
    {
        var result = await PresenceScenario.Create()
            .Clients(5, i => SimulatedClient.Stable($"c{i}"))
            .RunAsync(Minute);

        var broken = Assert.Throws<XunitException>(() => result.ShouldHoldAtMostMaxEntries(maxEntries: 4));
        Assert.Contains("at most 4 rows", broken.Message);
        Assert.Contains("6 rows", broken.Message);
    }

    [Fact]
    public async Task Should_coalesce_a_burst_of_beacons_past_the_bound_into_events_one_broadcast_interval_apart()
    {
        var result = await PresenceScenario.Create()
            .Clients(500, i => SimulatedClient.Stable($"burst-{i}"), (_, client) => client.BeaconAt(Minute))
            .RunAsync(2 * Minute);

        // 500 connects at 0 and 500 beacons at 1:00, each a visible change: a handful of events carry them all.
        var events = result.Readers[0].Events;
        Assert.InRange(events.Count, 2, 6);
        Assert.All(events.Zip(events.Skip(1)), pair => Assert.True(pair.Second.At - pair.First.At >= result.Settings.BroadcastInterval));
        Assert.All(result.FinalList.Entries.Skip(1), row => Assert.Equal("periodic", row.Reason));
        result.ShouldFollowThePresenceRules();
    }

    [Fact]
    public async Task Should_write_the_timeline_as_an_svg_chart()
    {
        var result = await Mixed(seed: 3, clients: 250).Readers(1, keepEveryList: false).RunAsync(TimeSpan.FromMinutes(15));
        var path = Path.Combine(Path.GetTempPath(), $"presence-timeline-{Guid.NewGuid():N}.svg");

        result.WriteTimelineSvg(path);

        var svg = await File.ReadAllTextAsync(path);
        File.Delete(path);
        Assert.Contains("<svg", svg);
        Assert.Contains("Active", svg);
        Assert.Equal(16, result.Timeline.Count);
        Assert.All(result.Timeline, sample => Assert.Equal(sample.List.Entries.Length, sample.Active + sample.Idle + sample.Stale + sample.Left));
    }

    /// <summary>Clients beaconing with jitter, one in ten without an instance id, one in five flapping (half of those losing their instance id).</summary>
    private static PresenceScenario Mixed(int seed, int clients) =>
        PresenceScenario.Create(seed).Clients(clients,
            i => i % 10 == 0 ? new SimulatedClient($"anon-{i}") : SimulatedClient.Stable($"app-{i}"),
            (i, client) =>
            {
                client.ConnectWithin(Minute).BeaconEvery(Minute, jitter: TimeSpan.FromSeconds(10));
                if (i % 5 == 0)
                    client.Flap(every: TimeSpan.FromMinutes(7), offline: TimeSpan.FromSeconds(30), jitter: TimeSpan.FromMinutes(2), keepInstanceId: i % 2 == 0);
            });

    private static string Digest(PresenceSimulationResult result, int reader = 0)
    {
        using var stream = new MemoryStream();
        result.Readers[reader].WriteNdjson(stream);
        return Convert.ToHexString(SHA256.HashData(stream.ToArray()));
    }

    private static PresenceEntry Row(PresenceSimulationResult result, string host, TimeSpan at) =>
        result.ListAt(at).Entries.Single(row => row.Host == host);

    private static PresenceStatus Status(PresenceSimulationResult result, string host, TimeSpan at) =>
        result.StatusesAt(at).Single(row => row.Row.Host == host).Status;
}
