using Presence.Actors.Domain;
using Presence.Actors.TestKit;
using Xunit;

namespace Presence.Actors.Tests.Simulation;

/// <summary>
/// The manager's rules for one client's row over its life, as a client lives it: these specs used to drive the
/// manager command by command with probes and hand-advanced time (<c>PresenceManagerActorSpecs</c>); the kit does that now.
/// </summary>
public sealed class ClientLifecycleSpecs
{
    [Fact]
    public async Task Should_remove_a_row_by_the_sweep_between_5_00_and_5_01_after_its_last_update_and_tell_readers()
    {
        var result = await PresenceScenario.Create()
            .WithSettings("presence.sweep-interval = 1s")
            .Client(SimulatedClient.Stable("mac-app-1"))
            .RunAsync(TimeSpan.FromMinutes(6));

        // Connected at 0:00 and never renewed (no beacon, no pong): the TTL is 5 minutes.
        var expired = Assert.Single(result.RowChanges, change => change.Kind == RowChangeKind.Expired);
        Assert.Equal("mac-app-1", expired.Row);
        Assert.InRange(expired.At, TimeSpan.FromSeconds(5 * 60 + 0.001), TimeSpan.FromSeconds(5 * 60 + 1));
        var told = result.Readers[0].Events;
        Assert.Single(told[^1].List.Entries);
        Assert.True(told[^1].StateVersion > told[^2].StateVersion);
        Assert.Single(result.FinalList.Entries);
    }

    [Fact]
    public async Task Should_keep_a_disconnected_row_marked_disconnect_with_the_time_of_the_close()
    {
        var result = await PresenceScenario.Create()
            .Client(SimulatedClient.Stable("mac-app-1"), client => client.DisconnectAt(TimeSpan.FromSeconds(1)))
            .RunAsync(TimeSpan.FromMinutes(2));

        var row = result.FinalList.Entries.Single(entry => entry.InstanceId == "mac-app-1");
        Assert.Equal(("disconnect", "mac-app-1"), (row.Reason, row.Host));
        Assert.Equal(result.GatewayTime(TimeSpan.FromSeconds(1)), row.Ts);
        Assert.Equal(PresenceStatus.Left, PresenceStatuses.Of(row, result.GatewayTime(result.Duration)));
    }
}
