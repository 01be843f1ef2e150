using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Configuration;
using Microsoft.AspNetCore.Builder;
using Presence.Cluster.Tests.Support;
using Presence.Gateway;
using Xunit;

namespace Presence.Cluster.Tests.InProcess;

/// <summary>
/// <c>/readyz</c> of a cluster node: not ready while it has not joined (its list would hold only its own rows),
/// ready once it is a member. Two gateways in this process on loopback ports: A's only seed is B, started later.
/// </summary>
public sealed class ClusterReadinessSpecs : IAsyncDisposable
{
    private static readonly TimeSpan JoinBound = TimeSpan.FromSeconds(30);

    private readonly List<WebApplication> _gateways = [];

    [Fact]
    public async Task Should_report_a_cluster_node_not_ready_until_it_has_joined_and_ready_after()
    {
        var seedPort = GatewayProcess.FreePort();
        var a = await StartAsync(GatewayProcess.FreePort(), seedPort);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var (status, body) = await ReadyzAsync(http, a);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        // Only the membership keeps it back: the manager answers as on a single node.
        Assert.Equal("Healthy", (string?)body["checks"]!["presence"]!["status"]);
        Assert.Contains(Checks(body), check => check.Key != "presence" && (string?)check.Value!["status"] == "Unhealthy");

        var b = await StartAsync(seedPort, seedPort);
        var joinedBy = DateTime.UtcNow + JoinBound;
        while ((await ReadyzAsync(http, a)).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < joinedBy, $"A not ready {JoinBound.TotalSeconds:0} s after its seed started");
            await Task.Delay(200);
        }
        var (bStatus, bBody) = await ReadyzAsync(http, b);
        Assert.Equal(HttpStatusCode.OK, bStatus);
        Assert.All(Checks(bBody), check => Assert.Equal("Healthy", (string?)check.Value!["status"]));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
    }

    private async Task<WebApplication> StartAsync(int clusterPort, int seedPort)
    {
        string[] args =
        [
            "--port", "0", "--cluster", "--cluster-port", clusterPort.ToString(CultureInfo.InvariantCulture),
            "--seed", $"127.0.0.1:{seedPort.ToString(CultureInfo.InvariantCulture)}",
        ];
        // A crash rather than a leave on stop keeps disposal short; joining needs no other override.
        var app = GatewayApp.Build(args, ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-actor-system-terminate = off"));
        _gateways.Add(app);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return app;
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> ReadyzAsync(HttpClient http, WebApplication gateway)
    {
        var origin = GatewayApp.ListeningUrl(gateway).Replace("ws://", "http://", StringComparison.Ordinal).TrimEnd('/');
        using var response = await http.GetAsync(new Uri(origin + "/readyz"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static JsonObject Checks(JsonNode body) => body["checks"]!.AsObject();
}
