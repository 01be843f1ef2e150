using System.Collections.Immutable;
using Akka.Actor;
using Akka.Discovery.Config.Hosting;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management.Dsl;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Newtonsoft.Json;
using static Akka.Management.Cluster.Bootstrap.ContactPoint.HttpBootstrapJsonProtocol;

namespace Presence.Actors.Cluster;

/// <summary>
/// Cluster Bootstrap over Akka.Discovery, for nodes that are not given seeds (<c>presence.cluster.discovery</c>).
/// Akka.Management serves <c>/bootstrap/seed-nodes</c> on the management port; the bootstrap probes every discovered
/// peer there and joins the cluster one of them reports. Only when all <see cref="PresenceClusterSettings.RequiredContactPoints"/>
/// peers answer with no cluster, after the discovered set was stable for the bootstrap's stable-margin, does the peer with
/// the lowest address form a new cluster, which the others then join: one cold start, one cluster.
/// <para>
/// Akka.Management's own HTTP server is not started: its Akka.Http.Shim 1.5.73 was built against Ceen.Httpd 0.9.9,
/// and the only Ceen.Httpd served (0.9.10) changed <c>HttpServer.ListenAsync</c>, so it fails with MissingMethodException.
/// The gateway's Kestrel serves the bootstrap's one route instead (<see cref="SeedNodesJson"/>), on the management port.
/// </para>
/// </summary>
public static class ClusterBootstrapHosting
{
    /// <summary>The path the bootstrap probes on every contact point.</summary>
    public const string SeedNodesPath = "/bootstrap/seed-nodes";

    /// <summary>What Akka.Management's route exposes at most (its <c>contact-point.max-seed-nodes-to-expose</c> default).</summary>
    private const int MaxSeedNodesToExpose = 5;

    /// <summary>The Kubernetes container port the bootstrap probes (the manifests name it so).</summary>
    public const string ManagementPortName = "management";

    public static AkkaConfigurationBuilder AddPresenceBootstrap(this AkkaConfigurationBuilder builder, PresenceClusterSettings settings)
    {
        builder.WithClusterBootstrap(bootstrap =>
        {
            bootstrap.ContactPointDiscovery.ServiceName = settings.ServiceName;
            bootstrap.ContactPointDiscovery.RequiredContactPointsNr = settings.RequiredContactPoints;
            bootstrap.NewClusterEnabled = settings.NewClusterEnabled;
            if (settings.Discovery == ClusterDiscovery.Kubernetes)
            {
                bootstrap.ContactPointDiscovery.PortName = ManagementPortName;
            }
            else
            {
                // Local runs put several nodes on one host, each with its own management port: probe every one
                // listed instead of only those on this node's port.
                bootstrap.ContactPoint.FilterOnFallbackPort = false;
            }
        }, autoStart: false);
        if (settings.Discovery == ClusterDiscovery.Kubernetes)
        {
            builder.WithKubernetesDiscovery(settings.PodLabelSelector);
        }
        else
        {
            builder.WithConfigDiscovery(discovery => discovery.Services.Add(new Service
            {
                Name = settings.ServiceName,
                Endpoints = [.. settings.ContactPoints],
            }));
        }
        return builder.WithActors((system, registry) =>
        {
            registry.Register<ClusterBootstrapWatchActor>(system.ActorOf(ClusterBootstrapWatchActor.Props(settings), "cluster-bootstrap-watch"));
            var bootstrap = ClusterBootstrap.Get(system);
            // Asking for the routes is how Akka.Management tells the bootstrap its own contact point, which the join
            // decider needs to recognise itself among the discovered ones; the routes themselves are Kestrel's here.
            bootstrap.Routes(ManagementRouteProviderSettings.Create(new Uri($"http://{settings.Hostname}:{settings.ManagementPort}/"), readOnly: true));
            _ = bootstrap.Start();
        });
    }

    /// <summary>
    /// The body of <see cref="SeedNodesPath"/>, as Akka.Management's <c>HttpClusterBootstrapRoutes</c> builds it (same
    /// types, same serializer, so every probing node reads it): this node, and the reachable members that are joining or up.
    /// </summary>
    public static string SeedNodesJson(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var self = cluster.SelfMember;
        if (self.Status is Akka.Cluster.MemberStatus.Down or Akka.Cluster.MemberStatus.Exiting or Akka.Cluster.MemberStatus.Leaving or Akka.Cluster.MemberStatus.Removed)
            return JsonConvert.SerializeObject(new SeedNodes(self.UniqueAddress.Address, ImmutableList<ClusterMember>.Empty));
        var state = cluster.State;
        var members = state.Members
            .Where(member => !state.Unreachable.Contains(member))
            .Where(member => member.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp or Akka.Cluster.MemberStatus.Joining)
            .Take(MaxSeedNodesToExpose)
            .Select(member => new ClusterMember(member.UniqueAddress.Address, member.UniqueAddress.Uid, member.Status, member.Roles))
            .ToImmutableList();
        return JsonConvert.SerializeObject(new SeedNodes(self.UniqueAddress.Address, members));
    }
}
