using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit;

namespace Presence.Cluster.Tests.Support;

/// <summary>
/// Gateway processes started with README's cluster command, formed once every node lists every node's
/// self row. Disposing kills whatever is still running.
/// </summary>
internal sealed class GatewayCluster : IDisposable
{
    /// <summary>Rows of a failed node leave the view within this (the target).</summary>
    public static readonly TimeSpan FailureBound = TimeSpan.FromSeconds(10);

    /// <summary>Three processes starting at once on two cores shared with other builds can take well over 30 s to join; each further one adds its start-up.</summary>
    private static TimeSpan FormingBound(int size) => TimeSpan.FromSeconds(60 + 15 * Math.Max(0, size - 3));

    private GatewayCluster(IReadOnlyList<GatewayProcess> nodes) => Nodes = nodes;

    public IReadOnlyList<GatewayProcess> Nodes { get; }

    /// <exception cref="Xunit.Sdk.XunitException">A node exited or did not see the whole cluster within <see cref="FormingBound"/> of its size.</exception>
    public static Task<GatewayCluster> StartAsync(CancellationToken cancellationToken, params string[] names) =>
        StartAsync(names, null, cancellationToken);

    /// <summary>The same, each node started with <paramref name="environment"/> (settings under comparison).</summary>
    public static async Task<GatewayCluster> StartAsync(string[] names, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var cluster = new GatewayCluster(GatewayProcess.StartCluster(names, environment));
        try
        {
            foreach (var node in cluster.Nodes)
                await UntilClusterSeenAsync(node, names.Length, cancellationToken);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var node in Nodes)
            node.Dispose();
    }

    /// <summary>The next presence event whose list matches; fails after <paramref name="within"/>.</summary>
    public static async Task<(DateTime At, JsonArray Presence)> NextPresenceAsync(WsClient client, Func<JsonArray, bool> match, TimeSpan within, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(within);
        try
        {
            await foreach (var presence in client.PresenceEvents.ReadAllAsync(bounded.Token))
            {
                if (match(presence.Presence))
                    return presence;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        throw new TimeoutException($"no matching presence event within {within.TotalSeconds:0.#} s");
    }

    public static bool HasInstance(JsonArray list, string instanceId) => list.Any(e => (string?)e?["instanceId"] == instanceId);

    public static int SelfRows(JsonArray list) => list.Count(e => (string?)e?["reason"] == "self");

    private static async Task UntilClusterSeenAsync(GatewayProcess node, int size, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var probe = await WsClient.ConnectAsync(node.Url, $"probe-{node.Name}", cancellationToken);
                await foreach (var (_, presence) in probe.PresenceEvents.ReadAllAsync(cancellationToken))
                {
                    if (SelfRows(presence) == size)
                        return;
                    if (deadline.Elapsed > FormingBound(size))
                        break;
                }
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or HttpRequestException)
            {
                // Not listening yet: the process is still starting.
            }
            Assert.False(node.HasExited, $"gateway {node.Name} exited:\n{node.Output}");
            Assert.True(deadline.Elapsed < FormingBound(size), $"gateway {node.Name} did not see a cluster of {size}:\n{node.Output}");
            await Task.Delay(200, cancellationToken);
        }
    }
}
