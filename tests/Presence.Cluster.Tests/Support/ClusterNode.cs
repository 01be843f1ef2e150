using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;

namespace Presence.Cluster.Tests.Support;

/// <summary>
/// One in-process cluster node on 127.0.0.1 with a free port, wired by the production
/// <c>AddPresence</c> + <c>AddPresenceCluster</c> under the real host builder.
/// </summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    public const string SystemName = "presence-gateway";

    // Crash, not leave, when a spec terminates the system; quick downing keeps the specs short.
    private const string TestHocon = """
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.loglevel = WARNING
        """;

    private readonly IHost _host;

    private ClusterNode(string name, IHost host)
    {
        Name = name;
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        Manager = host.Services.GetRequiredService<ActorRegistry>().Get<PresenceManagerActor>();
    }

    public string Name { get; }

    public ActorSystem System { get; }

    public IActorRef Manager { get; }

    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);

    public string NodeId => PresenceReplicatorActor.NodeId(Cluster.SelfUniqueAddress);

    public static PresenceEntry SelfOf(string name, long now) =>
        SelfEntry.Create($"host-{name}", "192.0.2.1", "1.0.0", "linux", "Linux", $"gw-{name}", now);

    /// <summary>Starts a node; without a seed it forms a cluster of its own.</summary>
    public static async Task<ClusterNode> StartAsync(string name, Address? seed = null, string hocon = "")
    {
        var overrides = ConfigurationFactory.ParseString(hocon).WithFallback(ConfigurationFactory.ParseString(TestHocon));
        var seeds = seed is null ? "[]" : $"[\"{seed}\"]";
        var cluster = PresenceClusterSettings.Create(
            ConfigurationFactory.ParseString($"presence.cluster {{ enabled = on, port = 0, seeds = {seeds} }}").WithFallback(overrides),
            SystemName);
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka(SystemName, akka =>
            {
                akka.AddHocon(overrides, HoconAddMode.Prepend);
                akka.AddPresence(SelfOf(name, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
                akka.AddPresenceCluster(cluster);
            }))
            .Build();
        await host.StartAsync();
        return new ClusterNode(name, host);
    }

    /// <summary>Three nodes (or <paramref name="count"/>), all Up and seeing each other.</summary>
    public static async Task<ImmutableArray<ClusterNode>> StartClusterAsync(int count = 3, string hocon = "")
    {
        var first = await StartAsync("a", hocon: hocon);
        await Until(() => first.Cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10));
        var nodes = new List<ClusterNode> { first };
        for (var i = 1; i < count; i++)
            nodes.Add(await StartAsync(((char)('a' + i)).ToString(), first.Cluster.SelfAddress, hocon));
        await Until(() => nodes.All(n => n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == count), TimeSpan.FromSeconds(20));
        return [.. nodes];
    }

    public async Task<PresenceSnapshot> PresenceAsync()
    {
        var response = await Manager.Ask<PresenceQueries.GetPresenceResponse>(PresenceQueries.GetPresence.Instance, TimeSpan.FromSeconds(3));
        return response.Snapshot;
    }

    /// <summary>Where each row of this node's view comes from, and the members as this node sees them.</summary>
    public Task<PresenceQueries.GetPresenceOriginsResponse> OriginsAsync() =>
        Manager.Ask<PresenceQueries.GetPresenceOriginsResponse>(PresenceQueries.GetPresenceOrigins.Instance, TimeSpan.FromSeconds(3));

    public void Upsert(string key, PresenceUpdate update, ConnectionId? owner = null) =>
        Manager.Tell(new PresenceCommands.Upsert(PresenceKey.From(key), update, owner));

    /// <summary>Stops the node the way a crash does: no leave, the others only notice missing heartbeats.</summary>
    public Task CrashAsync() => System.Terminate();

    /// <summary>Leaves the cluster the way a graceful stop of the gateway does.</summary>
    public Task LeaveAsync() => CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
            // A node already crashed or left has nothing more to stop.
        }
        _host.Dispose();
    }

    /// <summary>A bounded wait for a condition, polled; fails with the time it waited.</summary>
    public static async Task Until(Func<bool> condition, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        while (!condition())
        {
            if (deadline.IsCancellationRequested)
                throw new TimeoutException($"condition not met within {within.TotalSeconds:0.#} s");
            await Task.Delay(50, CancellationToken.None);
        }
    }
}
