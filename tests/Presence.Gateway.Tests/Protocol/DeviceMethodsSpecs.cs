using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Protocol;

/// <summary>The Devices-page methods, answered for a gateway that pairs no devices, commands no nodes and runs no commands.</summary>
public sealed class DeviceMethodsSpecs
{
    private const long Now = 1_796_400_000_000;

    private static JsonNode Payload(string method, string? parameters = "{}")
    {
        var error = DeviceMethods.Answer(method, Params(parameters), Now, out var payload);
        Assert.Null(error);
        return JsonNode.Parse(payload.Span)!;
    }

    private static GatewayError Refused(string method, string? parameters = "{}")
    {
        var error = DeviceMethods.Answer(method, Params(parameters), Now, out var payload);
        Assert.True(payload.IsEmpty);
        return Assert.IsType<GatewayError>(error);
    }

    private static JsonElement? Params(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();

    [Theory]
    [InlineData("device.pair.list", "operator.pairing")]
    [InlineData("node.list", "operator.read")]
    [InlineData("exec.approvals.get", "operator.admin")]
    [InlineData("exec.approvals.set", "operator.admin")]
    public void Should_require_the_scope_openclaw_requires(string method, string scope)
    {
        Assert.Equal(scope, DeviceMethods.RequiredScope(method));
        Assert.Contains(method, DeviceMethods.Names);
    }

    [Theory]
    [InlineData("system-presence")]
    [InlineData("device.pair.approve")]
    [InlineData("exec.approvals.node.get")]
    public void Should_not_claim_any_other_method(string method)
    {
        Assert.Null(DeviceMethods.RequiredScope(method));
    }

    [Fact]
    public void Should_list_no_pending_and_no_paired_devices()
    {
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"pending":[],"paired":[]}"""), Payload("device.pair.list")));
    }

    [Fact]
    public void Should_list_no_nodes_stamped_with_the_gateway_clock()
    {
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"ts":{{Now}},"nodes":[]}"""), Payload("node.list")));
    }

    [Fact]
    public void Should_describe_exec_approvals_as_a_missing_store_that_denies_everything()
    {
        var snapshot = Payload("exec.approvals.get");

        // ExecApprovalsSnapshotSchema: path, exists, hash, file required; hash of a missing store as OpenClaw writes it.
        Assert.Equal("none: this gateway runs no commands", (string?)snapshot["path"]);
        Assert.False((bool)snapshot["exists"]!);
        Assert.Equal("missing:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", (string?)snapshot["hash"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"version":1,"agents":{}}"""), snapshot["file"]));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"security":"deny","ask":"off","askFallback":"deny","autoAllowSkills":false}"""), snapshot["resolvedDefaults"]));
        Assert.Equal(["path", "exists", "hash", "file", "resolvedDefaults"], snapshot.AsObject().Select(property => property.Key));
    }

    [Theory]
    [InlineData("device.pair.list", null)]
    [InlineData("node.list", "null")]
    [InlineData("exec.approvals.get", "{}")]
    public void Should_read_absent_or_null_params_as_the_empty_object(string method, string? parameters)
    {
        Assert.NotNull(Payload(method, parameters));
    }

    [Theory]
    [InlineData("device.pair.list", """{"all":true}""", "invalid device.pair.list params: at root: unexpected property 'all'")]
    [InlineData("node.list", "[]", "invalid node.list params: must be object")]
    [InlineData("exec.approvals.get", "\"x\"", "invalid exec.approvals.get params: must be object")]
    public void Should_refuse_params_other_than_the_empty_object(string method, string parameters, string message)
    {
        var error = Refused(method, parameters);

        Assert.Equal((ErrorCodes.InvalidRequest, message), (error.Code, error.Message));
    }

    [Fact]
    public void Should_refuse_any_change_to_exec_approvals()
    {
        var error = Refused("exec.approvals.set", """{"file":{"version":1}}""");

        Assert.Equal((ErrorCodes.InvalidRequest, "exec approvals cannot be changed: this gateway runs no commands"), (error.Code, error.Message));
    }
}
