using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Presence.Actors.PresenceManager;

namespace Presence.Actors.Cluster;

/// <summary>Turns a presence node into a cluster member; the gateway and the cluster specs call the same method.</summary>
public static class PresenceClusterHosting
{
    /// <summary>
    /// Adds the <c>cluster.hocon</c> tuning, remoting on <see cref="PresenceClusterSettings.Hostname"/>:<see cref="PresenceClusterSettings.Port"/>,
    /// Akka.Cluster with the seeds, else Cluster Bootstrap when a discovery method is set, else a cluster of its own,
    /// and the <c>presence-replicator</c>.
    /// Call after <see cref="Hosting.PresenceHosting.AddPresence"/>, whose manager the replicator feeds.
    /// </summary>
    public static AkkaConfigurationBuilder AddPresenceCluster(this AkkaConfigurationBuilder builder, PresenceClusterSettings settings)
    {
        builder.AddHocon(PresenceClusterSettings.DefaultConfig, HoconAddMode.Append);
        builder.WithRemoting(settings.Hostname, settings.Port);
        builder.WithClustering(new ClusterOptions { SeedNodes = [.. settings.Seeds] });
        if (settings.Bootstraps)
            builder.AddPresenceBootstrap(settings);
        return builder.WithActors((system, registry) =>
        {
            ClusterInstruments.Track(system);
            if (settings.Seeds.IsEmpty && !settings.Bootstraps)
            {
                var cluster = Akka.Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            }
            var replicator = system.ActorOf(PresenceReplicatorActor.Props(registry.Get<PresenceManagerActor>(), settings), "presence-replicator");
            registry.Register<PresenceReplicatorActor>(replicator);
        });
    }
}
