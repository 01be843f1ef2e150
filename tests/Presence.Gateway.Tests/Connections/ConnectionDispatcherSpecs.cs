using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Presence.Actors.Hosting;
using Presence.Gateway.Connections;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Tests.Operators;
using Xunit;

namespace Presence.Gateway.Tests.Connections;

/// <summary>The dispatcher the ConnectionActors run on (<c>gateway.connection-dispatcher</c>), as configuration, environment and a running gateway take it.</summary>
public sealed class ConnectionDispatcherSpecs
{
    private static readonly string ShippedHocon = File.ReadAllText(Path.Combine(Repository.Root, "hocon", "gateway.hocon"));

    [Theory]
    [InlineData("default", "akka.actor.default-dispatcher")]
    [InlineData("gateway.dispatchers.channel", "gateway.dispatchers.channel")]
    [InlineData("gateway.dispatchers.dedicated", "gateway.dispatchers.dedicated")]
    [InlineData("gateway.dispatchers.throughput-1", "gateway.dispatchers.throughput-1")]
    public async Task Should_run_every_connection_actor_on_the_configured_dispatcher(string setting, string dispatcher)
    {
        await using var gateway = await TestGateway.StartAsync($"gateway.connection-dispatcher = \"{setting}\"");
        await using var client = await gateway.ConnectAndHandshakeAsync();

        var supervisor = (ActorRefWithCell)gateway.Services.GetRequiredService<ActorRegistry>().Get<ConnectionsSupervisorActor>();
        var connection = (ActorRefWithCell)Assert.Single(supervisor.Children);

        Assert.Equal(dispatcher, ((ActorCell)connection.Underlying).Dispatcher.Id);
    }

    [Fact]
    public void Should_take_the_connection_dispatcher_from_the_environment()
    {
        var hocon = HoconDefaults.ResolveEnvironmentOverrides(ShippedHocon, name => name == "PRESENCE_GATEWAY_CONNECTION_DISPATCHER" ? "gateway.dispatchers.channel" : null);

        Assert.Equal("gateway.dispatchers.channel", GatewaySettings.Create(ConfigurationFactory.ParseString(hocon)).ConnectionDispatcher);
        Assert.Null(GatewaySettings.Create(Config.Empty).ConnectionDispatcher);
    }

    [Theory]
    [InlineData("gateway.dispatchers.nope")]
    [InlineData("gateway.port")]
    public void Should_reject_a_connection_dispatcher_that_names_no_dispatcher(string setting)
    {
        var error = Assert.Throws<GatewaySettingsException>(() => GatewaySettings.Create(ConfigurationFactory.ParseString($"gateway.connection-dispatcher = \"{setting}\"")));

        Assert.Equal("gateway.connection-dispatcher", error.Key);
    }
}
