using System.Text.Json.Nodes;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Hardening;

/// <summary>Faults inside the gateway stay inside the connection they hit.</summary>
public sealed class FaultSpecs
{
    [Fact]
    public async Task Should_stop_a_crashed_connection_and_mark_its_row_without_touching_the_others()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var victim = await gateway.ConnectAsync();
        var hello = await victim.HandshakeAsync(Connects.UiNoDevice("victim-instance", ["operator.read"]));
        await using var bystander = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("bystander-instance", ["operator.admin"]));

        // Kill makes the actor throw ActorKilledException: the same path as any bug inside it.
        var system = gateway.Services.GetRequiredService<ActorSystem>();
        system.ActorSelection($"/user/connections/conn-{(string?)hello["server"]?["connId"]}").Tell(Kill.Instance);

        var close = await victim.WaitForCloseAsync();
        Assert.Equal(1011, close.Code);
        await bystander.ReceivePresenceAsync(list => list.OfType<JsonObject>().Any(row =>
            (string?)row["instanceId"] == "victim-instance" && (string?)row["reason"] == "disconnect"));
        var rows = await bystander.SystemPresenceAsync();
        Assert.Contains(rows.OfType<JsonObject>(), row => (string?)row["instanceId"] == "bystander-instance" && (string?)row["reason"] == "connect");
        await bystander.BeaconAsync(new JsonObject { ["text"] = "still here", ["instanceId"] = "bystander-beacon" });
    }
}
