using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// Two real gateways in this process forming one cluster on 127.0.0.1 (<c>--cluster --cluster-port … --seed …</c>),
/// ready once B lists A's self row, i.e. replication runs. For the operator views of a cluster.
/// </summary>
internal sealed class TwoGatewayCluster : IAsyncDisposable
{
    private TwoGatewayCluster(TestGateway a, int portA, TestGateway b, int portB)
    {
        A = a;
        B = b;
        AddressA = $"127.0.0.1:{portA}";
        AddressB = $"127.0.0.1:{portB}";
    }

    public TestGateway A { get; }

    public TestGateway B { get; }

    /// <summary>A's cluster address, as operator views name the node.</summary>
    public string AddressA { get; }

    public string AddressB { get; }

    public static async Task<TwoGatewayCluster> StartAsync()
    {
        var (portA, portB) = (FreePort(), FreePort());
        var a = await TestGateway.StartNodeAsync("a", portA, portA);
        TestGateway? b = null;
        try
        {
            b = await TestGateway.StartNodeAsync("b", portB, portA);
            await using var probe = await b.ConnectAndHandshakeAsync(Connects.Cli());
            var hello = await probe.SystemPresenceAsync();
            if (!Frames.HasInstance(hello, $"{TestGateway.SelfInstanceId}-a"))
                await probe.ReceivePresenceAsync(list => Frames.HasInstance(list, $"{TestGateway.SelfInstanceId}-a"), TimeSpan.FromSeconds(30));
            return new TwoGatewayCluster(a, portA, b, portB);
        }
        catch
        {
            if (b is not null)
                await b.DisposeAsync();
            await a.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <c>presence-gateway.instances</c> on <paramref name="gateway"/>, asked until <paramref name="done"/> holds: membership
    /// (both Up in each view) settles a moment after replication starts. Bounded, and fails with the last answer.
    /// </summary>
    public static async Task<JsonObject> InstancesUntilAsync(TestGateway gateway, Func<JsonObject, bool> done)
    {
        await using var reader = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var answer = (JsonObject)(await reader.CallOkAsync("presence-gateway.instances"))!;
            if (done(answer))
                return answer;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"presence-gateway.instances never settled: {answer.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    public static bool AllUp(JsonObject answer, int nodes) =>
        answer["nodes"]!.AsArray().Count(node => (string?)node!["status"] == "up" && (bool)node["reachable"]!) == nodes;

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
