using Akka.Actor;
using Akka.TestKit;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static Presence.Actors.PresenceManager.PresenceCommands;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Actors.Tests.PresenceManager;

/// <summary>The published list is served only when it is what an Ask would answer.</summary>
public sealed class PresenceBoardSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestScheduler, output: output)
{
    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private long NowMs => Clock.Now.ToUnixTimeMilliseconds();

    private static Upsert Row(string key)
    {
        var (presenceKey, update) = (Beacons.Text(key) with { InstanceId = key }).Resolve();
        return new Upsert(presenceKey, update);
    }

    private async Task<(IActorRef Manager, PresenceBoard Board)> StartManager()
    {
        var board = new PresenceBoard();
        var manager = Sys.ActorOf(PresenceManagerActor.Props(TestConfigs.Settings(), TestEntries.Self(), board));
        await manager.Ask<GetPresenceResponse>(GetPresence.Instance, TimeSpan.FromSeconds(3));
        return (manager, board);
    }

    [Fact]
    public async Task Should_serve_the_list_a_counted_write_produced_once_the_manager_applied_it()
    {
        var (manager, board) = await StartManager();

        board.Tell(manager, Row("written"));

        await AssertServedAsync(board, "written", listed: true);
    }

    [Fact]
    public async Task Should_refuse_a_read_until_a_counted_write_has_been_applied()
    {
        var (manager, board) = await StartManager();
        var mailbox = CreateTestProbe();

        // The probe stands in for the manager's mailbox: the write is told, and nobody has applied it yet.
        board.Tell(mailbox.Ref, Row("pending"));
        var write = await mailbox.ExpectMsgAsync<object>();

        Assert.False(board.TryRead(NowMs, out _));
        manager.Tell(write);
        await AssertServedAsync(board, "pending", listed: true);
    }

    [Fact]
    public async Task Should_refuse_a_read_once_a_row_is_past_the_ttl_until_the_manager_expired_it()
    {
        var (manager, board) = await StartManager();
        board.Tell(manager, Row("old"));
        await AssertServedAsync(board, "old", listed: true);

        var ttl = TestConfigs.Settings().Ttl;
        Assert.True(board.TryRead(NowMs + (long)ttl.TotalMilliseconds, out _));
        Assert.False(board.TryRead(NowMs + (long)ttl.TotalMilliseconds + 1, out _));

        // One jump past the TTL fires the sweep once, and the manager publishes the list without the row.
        Clock.Advance(ttl + TimeSpan.FromMilliseconds(1));
        await AssertServedAsync(board, "old", listed: false);
    }

    private Task AssertServedAsync(PresenceBoard board, string instanceId, bool listed) =>
        AwaitAssertAsync(() =>
        {
            Assert.True(board.TryRead(NowMs, out var snapshot));
            Assert.Equal(listed, snapshot.Entries.Any(entry => entry.InstanceId == instanceId));
        });
}
