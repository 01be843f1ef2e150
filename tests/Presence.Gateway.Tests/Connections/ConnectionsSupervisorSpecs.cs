using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Presence.Gateway.Connections;
using Xunit;

namespace Presence.Gateway.Tests.Connections;

/// <summary>The supervisor's part in a graceful stop: its answer is what lets the gateway go on to stop the actors.</summary>
public sealed class ConnectionsSupervisorSpecs : TestKit
{
    private static readonly GatewaySettings Settings = GatewaySettings.Create(ConfigurationFactory.ParseString("gateway { auth = none }"));

    private readonly IActorRef _supervisor;

    public ConnectionsSupervisorSpecs()
        : base(GatewaySettings.DefaultConfig)
    {
        var options = new ConnectionOptions(Settings, new Admission(Settings.Limits), new HashSet<string>(), TimeSpan.FromSeconds(3), "test", 0);
        _supervisor = Sys.ActorOf(ConnectionsSupervisorActor.Props(CreateTestProbe().Ref, options));
    }

    [Fact]
    public async Task Should_answer_a_stop_only_once_every_connection_has_queued_its_close_1012()
    {
        var connections = Enumerable.Range(0, 1000).Select(_ => new RecordingConnection()).ToList();
        foreach (var connection in connections)
            await AcceptAsync(connection);

        await _supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(5));

        // Not awaited: once the supervisor has answered, the actors may be stopped, so every close must be queued already.
        Assert.All(connections, connection => Assert.Equal(CloseCodes.ServiceRestart, connection.Closed?.Status));
    }

    [Fact]
    public async Task Should_answer_a_stop_when_a_connection_stopped_before_it_could_queue_its_close()
    {
        var gone = await AcceptAsync(new RecordingConnection());
        var open = new RecordingConnection();
        await AcceptAsync(open);

        gone.Tell(ConnectionActor.SocketClosed.Instance);
        await _supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(5));

        Assert.Equal(CloseCodes.ServiceRestart, open.Closed?.Status);
    }

    [Fact]
    public async Task Should_answer_every_stop_request_including_one_made_after_every_close_was_queued()
    {
        await AcceptAsync(new RecordingConnection());
        var first = _supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(5));
        var second = _supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(5));

        await Task.WhenAll(first, second);
        await _supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(5));
    }

    private async Task<IActorRef> AcceptAsync(RecordingConnection connection)
    {
        var accept = new ConnectionsSupervisorActor.Accept(connection);
        _supervisor.Tell(accept);
        return await accept.Actor;
    }
}
