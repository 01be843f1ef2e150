using Akka.Hosting;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;
using Presence.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Actors.Tests.Hosting;

public sealed class PresenceQueryServiceSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    /// <summary>Registers <paramref name="manager"/> where the production code looks the presence-manager up.</summary>
    private PresenceQueryService QueriesAgainst(Akka.Actor.IActorRef manager, TimeSpan askTimeout)
    {
        var registry = ActorRegistry.For(Sys);
        registry.Register<PresenceManagerActor>(manager);
        return new PresenceQueryService(new RequiredActor<PresenceManagerActor>(registry), askTimeout);
    }

    [Fact]
    public async Task Should_report_a_manager_that_never_answers_as_unavailable()
    {
        var silentManager = CreateTestProbe();
        var queries = QueriesAgainst(silentManager.Ref, TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<PresenceUnavailableException>(() => queries.GetPresenceAsync());

        Assert.Equal("presence-manager did not answer within 200 ms", error.Message);
        Assert.IsType<Akka.Actor.AskTimeoutException>(error.InnerException);
        await silentManager.ExpectMsgAsync<GetPresence>();
    }

    [Fact]
    public async Task Should_return_the_snapshot_the_manager_answers_with()
    {
        var manager = Sys.ActorOf(PresenceManagerActor.Props(TestConfigs.Settings(), TestEntries.Self()));
        var queries = QueriesAgainst(manager, TimeSpan.FromSeconds(3));

        var snapshot = await queries.GetPresenceAsync();

        Assert.Equal(TestEntries.SelfInstanceId, Assert.Single(snapshot.Entries).InstanceId);
    }

    [Fact]
    public async Task Should_let_the_caller_cancel_before_the_timeout()
    {
        var silentManager = CreateTestProbe();
        var queries = QueriesAgainst(silentManager.Ref, TimeSpan.FromSeconds(30));
        using var aborted = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        // A cancelled request is the caller's doing, not an unavailable manager.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queries.GetPresenceAsync(aborted.Token));
    }
}
