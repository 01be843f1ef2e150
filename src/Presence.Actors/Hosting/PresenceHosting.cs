using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;

namespace Presence.Actors.Hosting;

/// <summary>Wires the presence engine into an Akka.Hosting application; the gateway and the tests call the same methods.</summary>
public static class PresenceHosting
{
    /// <summary>
    /// Adds the <c>presence</c> defaults, then starts the <c>presence-manager</c> actor and registers it
    /// in the <see cref="ActorRegistry"/>. An invalid setting fails the start with its key named.
    /// </summary>
    /// <param name="builder">The application's Akka builder.</param>
    /// <param name="self">The gateway's own row; detected from this machine when not given.</param>
    public static AkkaConfigurationBuilder AddPresence(this AkkaConfigurationBuilder builder, PresenceEntry? self = null)
    {
        builder.AddHocon(PresenceSettings.DefaultConfig, HoconAddMode.Append);
        return builder.WithActors((system, registry) =>
        {
            var settings = PresenceSettings.Create(system.Settings.Config);
            var now = system.Scheduler.Now.ToUnixTimeMilliseconds();
            var props = PresenceManagerActor.Props(settings, self ?? SelfEntry.Detect(now));
            var manager = system.ActorOf(settings.ManagerDispatcher is { } dispatcher ? props.WithDispatcher(dispatcher) : props, "presence-manager");
            registry.Register<PresenceManagerActor>(manager);
        });
    }

    /// <summary>Registers <see cref="IPresenceQueries"/> for callers outside the actor system.</summary>
    public static IServiceCollection AddPresenceQueries(this IServiceCollection services) =>
        services.AddSingleton<IPresenceQueries>(provider => new PresenceQueryService(
            provider.GetRequiredService<IRequiredActor<PresenceManagerActor>>(),
            PresenceSettings.Create(provider.GetRequiredService<ActorSystem>().Settings.Config).AskTimeout));
}
