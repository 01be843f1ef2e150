using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>captures/02-19-scope-and-role-errors.json: U1 has no scopes, U2 has operator.read only, N1 is role=node.</summary>
public sealed class ScopeSpecs
{
    private static JsonObject MissingScope(string scope) => new()
    {
        ["code"] = "MISSING_SCOPE",
        ["missingScope"] = scope,
        ["requiredScopes"] = new JsonArray(scope),
    };

    [Fact]
    public async Task Should_forbid_system_presence_without_operator_read()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var u1 = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice(scopes: []));

        var response = await u1.CallAsync("system-presence", new JsonObject());

        AssertError(response, (string)response["id"]!, "FORBIDDEN", "missing scope: operator.read", MissingScope("operator.read"));
        Assert.False(u1.IsClosed);
    }

    [Fact]
    public async Task Should_forbid_system_event_with_only_operator_read()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var u2 = await gateway.ConnectAndHandshakeAsync(Connects.UiWithDevice());

        var response = await u2.CallAsync("system-event", new JsonObject { ["text"] = "not allowed" });

        AssertError(response, (string)response["id"]!, "FORBIDDEN", "missing scope: operator.admin", MissingScope("operator.admin"));
    }

    [Fact]
    public async Task Should_let_operator_read_call_system_presence()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var u2 = await gateway.ConnectAndHandshakeAsync(Connects.UiWithDevice());

        var list = await u2.SystemPresenceAsync();

        AssertSelfFirst(list);
        Assert.NotNull(RowByInstance(list, "PROBE-UI-INSTANCE-1"));
    }

    /// <summary>operator.write implies operator.read (§3.4).</summary>
    [Fact]
    public async Task Should_let_operator_write_read_presence()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var writer = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.write"], instanceId: "writer"));

        Assert.NotNull(RowByInstance(await writer.SystemPresenceAsync(), "writer"));
    }

    [Fact]
    public async Task Should_refuse_system_presence_to_a_node_role()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var n1 = await gateway.ConnectAndHandshakeAsync(Connects.Node());

        var response = await n1.CallAsync("system-presence", new JsonObject());

        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", "unauthorized role: node");
        // health has no scope or role requirement.
        Assert.True((await n1.CallOkAsync("health"))!["ok"]!.GetValue<bool>());
    }

    /// <summary>Not captured (gateway-protocol.md §3.4, CODE): more than 10 unauthorized-role errors in a row close the socket.</summary>
    [Fact]
    public async Task Should_close_a_node_after_more_than_ten_unauthorized_calls()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var n1 = await gateway.ConnectAndHandshakeAsync(Connects.Node());

        for (var i = 0; i < 11; i++)
        {
            var response = await n1.CallAsync("system-presence", new JsonObject());
            AssertError(response, (string)response["id"]!, "INVALID_REQUEST", "unauthorized role: node");
        }

        AssertClose(await n1.WaitForCloseAsync(), 1008, "repeated unauthorized calls");
    }
}
