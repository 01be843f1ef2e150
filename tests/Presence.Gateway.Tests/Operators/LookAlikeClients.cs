using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// Real clients that produce each of the seed's duplicate cases: a client without instanceId connected twice
/// (check 3: two Twin-Host rows), and an app with a stable instanceId whose periodic beacons, relayed by a
/// backend, carry none (checks 1 and 2: two Probe-UI-Host rows).
/// </summary>
internal sealed class LookAlikeClients(IReadOnlyList<TestClient> clients) : IAsyncDisposable
{
    public static async Task<LookAlikeClients> ConnectAsync(TestGateway gateway)
    {
        static JsonObject Twin() => Connects.Params("test", "ui", ["operator.read"], displayName: "Twin-Host", platform: "linux");
        var clients = new List<TestClient>
        {
            await gateway.ConnectAndHandshakeAsync(Twin()),
            await gateway.ConnectAndHandshakeAsync(Twin()),
            await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice()),
        };
        var backend = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        clients.Add(backend);
        await backend.BeaconAsync(new JsonObject
        {
            ["text"] = "periodic from the mac",
            ["host"] = "Probe-UI-Host",
            ["platform"] = "macos 15.1",
            ["deviceFamily"] = "Mac",
            ["modelIdentifier"] = "Mac15,3",
            ["reason"] = "periodic",
        });
        return new LookAlikeClients(clients);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in clients)
            await client.DisposeAsync();
    }
}
