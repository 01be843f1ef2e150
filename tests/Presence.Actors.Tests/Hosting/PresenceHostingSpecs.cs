using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Hosting;

public sealed class PresenceHostingSpecs
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private static IHost BuildHost(CapturingLoggerProvider logs, Action<AkkaConfigurationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddAkka("test", akka =>
        {
            configure?.Invoke(akka);
            akka.AddPresence(TestEntries.Self());
        });
        builder.Services.AddPresenceQueries();
        return builder.Build();
    }

    [Fact]
    public async Task Should_serve_the_self_row_through_the_queries_of_a_real_host()
    {
        using var logs = new CapturingLoggerProvider();
        using var host = BuildHost(logs);
        using var timeout = new CancellationTokenSource(StartTimeout);
        await host.StartAsync(timeout.Token);
        try
        {
            var snapshot = await host.Services.GetRequiredService<IPresenceQueries>().GetPresenceAsync(timeout.Token);

            var self = Assert.Single(snapshot.Entries);
            Assert.Equal((TestEntries.SelfInstanceId, "self"), (self.InstanceId, self.Reason));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("default", "akka.actor.default-dispatcher")]
    [InlineData("presence.dispatchers.channel", "presence.dispatchers.channel")]
    [InlineData("presence.dispatchers.pinned", "presence.dispatchers.pinned")]
    [InlineData("presence.dispatchers.throughput-100", "presence.dispatchers.throughput-100")]
    public async Task Should_run_the_manager_on_the_configured_dispatcher(string setting, string dispatcher)
    {
        using var logs = new CapturingLoggerProvider();
        using var host = BuildHost(logs, akka => akka.AddHocon(ConfigurationFactory.ParseString($"presence.manager-dispatcher = \"{setting}\""), HoconAddMode.Prepend));
        using var timeout = new CancellationTokenSource(StartTimeout);
        await host.StartAsync(timeout.Token);
        try
        {
            // Answered: the manager has started, on its dispatcher.
            Assert.Single((await host.Services.GetRequiredService<IPresenceQueries>().GetPresenceAsync(timeout.Token)).Entries);
            var manager = (ActorRefWithCell)host.Services.GetRequiredService<ActorRegistry>().Get<PresenceManagerActor>();

            Assert.Equal(dispatcher, ((ActorCell)manager.Underlying).Dispatcher.Id);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Should_fail_start_up_naming_the_key_of_an_invalid_setting()
    {
        using var logs = new CapturingLoggerProvider();
        using var host = BuildHost(logs, akka => akka.AddHocon(ConfigurationFactory.ParseString("presence.ttl = -1s"), HoconAddMode.Prepend));
        using var timeout = new CancellationTokenSource(StartTimeout);

        // Akka.Hosting 1.5.73 logs the failure of a WithActors callback and rethrows it, so StartAsync fails with it.
        var error = await Assert.ThrowsAsync<PresenceSettingsException>(() => host.StartAsync(timeout.Token));

        Assert.Equal("presence.ttl", error.Key);
        Assert.Contains("presence.ttl", error.Message, StringComparison.Ordinal);
        var critical = Assert.Single(logs.Entries, entry => entry.Level == LogLevel.Critical);
        Assert.Equal("Akka.Hosting.AkkaHostedService", critical.Category);
        Assert.Same(error, critical.Exception);
        await host.StopAsync(CancellationToken.None);
    }
}
