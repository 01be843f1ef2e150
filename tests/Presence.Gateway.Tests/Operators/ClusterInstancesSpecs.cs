using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// Two clustered gateways in this process: rows read through B are tagged with the node that owns them, and
/// <c>instances</c> shows the NODE column and <c>--nodes</c> lists both members.
/// </summary>
public sealed class ClusterInstancesSpecs
{
    [Fact]
    public async Task Should_tag_each_row_with_its_node_and_list_both_members_with_instances_nodes()
    {
        await using var cluster = await TwoGatewayCluster.StartAsync();
        await using var onA = await cluster.A.ConnectAndHandshakeAsync(Connects.UiNoDevice("Client-On-A"));

        var answer = await TwoGatewayCluster.InstancesUntilAsync(cluster.B, answer =>
            TwoGatewayCluster.AllUp(answer, 2) && answer["rows"]!.AsArray().Any(row => (string?)row!["instanceId"] == "Client-On-A"));

        var rows = answer["rows"]!.AsArray().Select(row => row!.AsObject()).ToList();
        var client = Assert.Single(rows, row => (string?)row["instanceId"] == "Client-On-A");
        Assert.Equal(("client-on-a", cluster.AddressA), ((string?)client["key"], (string?)client["node"]));
        Assert.Equal(cluster.AddressA, (string?)Assert.Single(rows, row => (string?)row["instanceId"] == $"{TestGateway.SelfInstanceId}-a")["node"]);
        Assert.Equal(cluster.AddressB, (string?)Assert.Single(rows, row => (string?)row["instanceId"] == $"{TestGateway.SelfInstanceId}-b")["node"]);
        Assert.Equal(new[] { cluster.AddressA, cluster.AddressB }.Order(StringComparer.Ordinal), answer["nodes"]!.AsArray().Select(node => (string?)node!["address"]));

        var (code, nodes, error) = await InstancesAsync(cluster.B, "--nodes");
        Assert.True(code == 0, error);
        var lines = Lines(nodes);
        Assert.StartsWith("NODE ", lines[0], StringComparison.Ordinal);
        // Each member with its status, reachability and the rows it owns: A its self row and its client, B its self row.
        Assert.Matches($@"^{Escape(cluster.AddressA)}\s+up\s+yes\s+2$", lines.Single(line => line.StartsWith(cluster.AddressA, StringComparison.Ordinal)));
        Assert.Matches($@"^{Escape(cluster.AddressB)}\s+up\s+yes\s+1$", lines.Single(line => line.StartsWith(cluster.AddressB, StringComparison.Ordinal)));
        Assert.Equal("2 nodes · 2 up · 0 unreachable", lines[^1]);

        var (_, table, _) = await InstancesAsync(cluster.B);
        var tableLines = Lines(table);
        Assert.EndsWith(" NODE", tableLines[0], StringComparison.Ordinal);
        Assert.EndsWith(" " + cluster.AddressA, tableLines.Single(line => line.Contains("Client-On-A", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.EndsWith(" · 2 nodes", tableLines[^1], StringComparison.Ordinal);

        var (_, json, _) = await InstancesAsync(cluster.B, "--nodes", "--json");
        Assert.Equal(2, JsonNode.Parse(json)!["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Should_list_a_gateway_alone_as_one_node_and_show_neither_node_nor_key_columns_it_does_not_need()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());

        var (code, nodes, error) = await InstancesAsync(gateway, "--nodes");
        Assert.True(code == 0, error);
        Assert.Matches($@"^{TestGateway.SelfHost}\s+up\s+yes\s+2$", Lines(nodes)[1]);
        Assert.Equal("1 node · 1 up · 0 unreachable", Lines(nodes)[^1]);

        var (_, table, _) = await InstancesAsync(gateway);
        Assert.DoesNotContain("NODE", Lines(table)[0], StringComparison.Ordinal);
        Assert.DoesNotContain("KEY", Lines(table)[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_show_the_key_of_rows_keyed_by_something_other_than_their_instance_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var clients = await LookAlikeClients.ConnectAsync(gateway);

        var (code, table, error) = await InstancesAsync(gateway);

        Assert.True(code == 0, error);
        var lines = Lines(table);
        var key = lines[0].IndexOf("KEY", StringComparison.Ordinal);
        Assert.True(key > 0, lines[0]);
        // The twins are keyed by their connections, the relayed beacon by what it carries; the app by its instanceId, so no key.
        Assert.All(lines.Where(line => line.Contains("Twin-Host", StringComparison.Ordinal)), line => Assert.Matches("^[0-9a-f-]{36} ", line[key..]));
        Assert.DoesNotMatch("^— ", lines.Single(line => line.Contains("heartbeat", StringComparison.Ordinal))[key..]);
        Assert.StartsWith("— ", lines.Single(line => line.Contains("Probe-UI-Instance-1", StringComparison.Ordinal))[key..], StringComparison.Ordinal);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd()).ToArray();

    private static string Escape(string text) => System.Text.RegularExpressions.Regex.Escape(text);

    private static Task<(int Code, string Output, string Error)> InstancesAsync(TestGateway gateway, params string[] args) =>
        InstancesCommandSpecs.RunAsync(gateway, ["--token", TestGateway.Token, .. args]);
}
