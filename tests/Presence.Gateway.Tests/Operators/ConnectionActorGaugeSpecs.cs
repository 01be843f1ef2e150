using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// The gauges are process-wide and other specs start gateways in parallel: exact counts are only
/// meaningful when nothing else runs, so these specs run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IsolatedMetricsSpecs
{
    public const string Name = "isolated metrics";
}

/// <summary><c>presence_gateway_connection_actors</c>, the live-actor figure the soak test watches for leaks.</summary>
[Collection(IsolatedMetricsSpecs.Name)]
public sealed class ConnectionActorGaugeSpecs
{
    [Fact]
    public async Task Should_count_connection_actors_from_start_until_they_stop_whether_closed_or_crashed()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = OperatorEndpointSpecs.Http(gateway);
        var before = await ConnectionActorsAsync(http);
        await using var crashed = await gateway.ConnectAsync();
        var hello = await crashed.HandshakeAsync(Connects.Cli());
        await using var closed = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        // An unauthenticated socket has its actor too: it is what runs the handshake.
        await using var pending = await gateway.ConnectAsync();
        await pending.ReceiveChallengeAsync();

        Assert.Equal(before + 3, await ConnectionActorsAsync(http));

        var system = gateway.Services.GetRequiredService<ActorSystem>();
        // Akka tells watchers an actor is gone only after its PostStop has run, so once all three
        // Terminated have arrived the gauge must be back where it was.
        var watcher = Inbox.Create(system);
        system.ActorSelection("/user/connections/*").Tell(new Identify(null), watcher.Receiver);
        for (var i = 0; i < 3; i++)
            watcher.Watch(Assert.IsType<ActorIdentity>(await watcher.ReceiveAsync(Bound)).Subject!);
        system.ActorSelection($"/user/connections/conn-{(string?)hello["server"]?["connId"]}").Tell(Kill.Instance);
        await crashed.WaitForCloseAsync();
        await closed.CloseAsync();
        await pending.CloseAsync();
        for (var i = 0; i < 3; i++)
            Assert.IsType<Terminated>(await watcher.ReceiveAsync(Bound));

        Assert.Equal(before, await ConnectionActorsAsync(http));
    }

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static async Task<double> ConnectionActorsAsync(HttpClient http) =>
        OperatorEndpointSpecs.Sample(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)), "presence_gateway_connection_actors");
}
