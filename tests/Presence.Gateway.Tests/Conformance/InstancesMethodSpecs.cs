using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// <c>presence-gateway.instances</c>, this gateway's own read for operator views, over real sockets: advertised,
/// one row per entry with its key and node, the gateway alone as one node, and the same scope as system-presence.
/// </summary>
public sealed class InstancesMethodSpecs
{
    private const string Method = "presence-gateway.instances";

    [Fact]
    public async Task Should_give_a_reader_each_rows_key_and_node_and_this_gateway_as_the_one_node()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var admin = await gateway.ConnectAndHandshakeAsync();
        await admin.CallOkAsync("system-event", new JsonObject { ["text"] = "Node: beacon-box · reason periodic" });
        await using var reader = await gateway.ConnectAsync();
        var hello = await reader.HandshakeAsync(Connects.UiNoDevice());
        Assert.Contains(Method, hello["features"]!["methods"]!.AsArray().Select(method => (string?)method));

        var list = Assert.IsType<JsonArray>(await reader.CallOkAsync("system-presence"));
        var answer = Assert.IsType<JsonObject>(await reader.CallOkAsync(Method));

        var rows = answer["rows"]!.AsArray().Select(row => row!.AsObject()).ToList();
        // Every entry of the list has its row, and the rows say no more than key, node, ts, instanceId and text.
        Assert.Equal(list.Count, rows.Count);
        Assert.All(rows, row => Assert.Subset(new HashSet<string> { "key", "node", "ts", "instanceId", "text" }, row.Select(field => field.Key).ToHashSet()));
        Assert.All(rows, row => Assert.Equal(TestGateway.SelfHost, (string?)row["node"]));
        var self = Assert.Single(rows, row => (string?)row["instanceId"] == TestGateway.SelfInstanceId);
        Assert.Null(self["key"]);
        Assert.Equal("probe-ui-instance-1", (string?)Assert.Single(rows, row => (string?)row["instanceId"] == "Probe-UI-Instance-1")["key"]);
        // A beacon with no id, host or ip is keyed by its text: the key operators need to explain that row.
        var beacon = RowByText(list, "Node: beacon-box · reason periodic")!;
        Assert.True(rows.Any(row => (long)row["ts"]! == (long)beacon["ts"]! && row["instanceId"] is null && (string?)row["key"] == "node: beacon-box · reason periodic"), $"{beacon.ToJsonString()} in {answer.ToJsonString()}");
        var node = Assert.Single(answer["nodes"]!.AsArray())!;
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["address"] = TestGateway.SelfHost, ["status"] = "up", ["reachable"] = true }, node));
    }

    [Fact]
    public async Task Should_need_the_read_scope_refuse_nodes_and_params_and_leave_other_unknown_methods_unknown()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var pairing = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.pairing"], instanceId: "pairing-only"));
        await using var node = await gateway.ConnectAndHandshakeAsync(Connects.Node());
        await using var reader = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());

        var refused = await pairing.CallAsync(Method);
        AssertError(refused, (string)refused["id"]!, "FORBIDDEN", "missing scope: operator.read",
            new JsonObject { ["code"] = "MISSING_SCOPE", ["missingScope"] = "operator.read", ["requiredScopes"] = new JsonArray("operator.read") });
        var fromNode = await node.CallAsync(Method);
        AssertError(fromNode, (string)fromNode["id"]!, "INVALID_REQUEST", "unauthorized role: node");
        var withParams = await reader.CallAsync(Method, new JsonObject { ["all"] = true });
        AssertError(withParams, (string)withParams["id"]!, "INVALID_REQUEST", $"invalid {Method} params: at root: unexpected property 'all'");
        Assert.NotNull(await reader.CallOkAsync(Method, new JsonObject()));
        var unknown = await reader.CallAsync("presence-gateway.nodes");
        AssertError(unknown, (string)unknown["id"]!, "INVALID_REQUEST", "unknown method: presence-gateway.nodes");
    }
}
