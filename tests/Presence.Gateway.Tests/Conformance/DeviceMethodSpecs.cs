using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>The Control UI's Devices-page methods over real sockets: advertised, answered, and guarded by OpenClaw's scopes.</summary>
public sealed class DeviceMethodSpecs
{
    [Fact]
    public async Task Should_advertise_the_device_methods_in_hello_ok()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();

        var hello = await client.HandshakeAsync();

        var methods = hello["features"]!["methods"]!.AsArray().Select(method => (string?)method).ToHashSet();
        Assert.Superset(new HashSet<string?> { "device.pair.list", "node.list", "exec.approvals.get", "exec.approvals.set" }, methods);
    }

    [Fact]
    public async Task Should_answer_an_admin_as_a_gateway_with_no_pairings_nodes_or_exec_approvals()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var admin = await gateway.ConnectAndHandshakeAsync();

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"pending":[],"paired":[]}"""), await admin.CallOkAsync("device.pair.list", new JsonObject())));
        Assert.Empty((await admin.CallOkAsync("node.list", new JsonObject()))!["nodes"]!.AsArray());
        var approvals = await admin.CallOkAsync("exec.approvals.get", new JsonObject());
        Assert.Equal((false, "deny"), ((bool)approvals!["exists"]!, (string?)approvals["resolvedDefaults"]!["security"]));
        var set = await admin.CallAsync("exec.approvals.set", new JsonObject { ["file"] = new JsonObject { ["version"] = 1 } });
        AssertError(set, (string)set["id"]!, "INVALID_REQUEST", "exec approvals cannot be changed: this gateway runs no commands");
    }

    [Fact]
    public async Task Should_let_a_pairing_operator_list_pairings_but_not_exec_approvals()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var pairing = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.pairing"], instanceId: "pairing-only"));

        Assert.NotNull(await pairing.CallOkAsync("device.pair.list", new JsonObject()));
        var approvals = await pairing.CallAsync("exec.approvals.get", new JsonObject());
        AssertError(approvals, (string)approvals["id"]!, "FORBIDDEN", "missing scope: operator.admin", MissingScope("operator.admin"));
    }

    [Fact]
    public async Task Should_refuse_device_pairings_to_a_reader_and_params_other_than_the_empty_object()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var reader = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());

        var pairings = await reader.CallAsync("device.pair.list", new JsonObject());
        AssertError(pairings, (string)pairings["id"]!, "FORBIDDEN", "missing scope: operator.pairing", MissingScope("operator.pairing"));
        var nodes = await reader.CallAsync("node.list", new JsonObject { ["all"] = true });
        AssertError(nodes, (string)nodes["id"]!, "INVALID_REQUEST", "invalid node.list params: at root: unexpected property 'all'");
        Assert.False(reader.IsClosed);
    }

    private static JsonObject MissingScope(string scope) =>
        new() { ["code"] = "MISSING_SCOPE", ["missingScope"] = scope, ["requiredScopes"] = new JsonArray(scope) };
}
