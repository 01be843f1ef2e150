using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Presence.Actors.Cluster;

namespace Presence.Gateway.Operators;

/// <summary>
/// The one Akka.Management route Cluster Bootstrap needs, <c>/bootstrap/seed-nodes</c>, served by Kestrel on the
/// management port (see <see cref="ClusterBootstrapHosting"/> for why not by Akka.Management's own server).
/// </summary>
internal static class ClusterBootstrapEndpoint
{
    /// <summary>The address the management port binds: the cluster hostname's, like Akka.Remote's.</summary>
    public static IPAddress BindAddress(PresenceClusterSettings cluster) =>
        IPAddress.TryParse(cluster.Hostname, out var address)
            ? address
            : Dns.GetHostAddresses(cluster.Hostname).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new GatewaySettingsException($"presence.cluster.hostname '{cluster.Hostname}' has no IPv4 address to bind the management port to", "presence.cluster.hostname");

    /// <summary>Only on the management port: the gateway's own port keeps serving the page at every other path.</summary>
    public static WebApplication MapClusterBootstrap(this WebApplication app, PresenceClusterSettings cluster)
    {
        app.MapGet(ClusterBootstrapHosting.SeedNodesPath, context =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.WriteAsync(ClusterBootstrapHosting.SeedNodesJson(context.RequestServices.GetRequiredService<ActorSystem>()), context.RequestAborted);
        }).RequireHost($"*:{cluster.ManagementPort}");
        return app;
    }
}
