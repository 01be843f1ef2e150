using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Configuration;
using Presence.Actors.Domain;
using Presence.Gateway.Connections;
using Presence.Gateway.Protocol;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Connections;

/// <summary>The connect rules as a pure function: each rule, and the order in which the first failure decides.</summary>
public sealed class ConnectPolicySpecs
{
    private const string OwnOrigin = "http://127.0.0.1:18789";

    private static readonly GatewaySettings TokenAuth = Settings($"auth = token, token = {TestGateway.Token}, allowed-origins = [\"https://ops.example\"]");
    private static readonly GatewaySettings PasswordAuth = Settings("auth = password, password = hunter2");
    private static readonly GatewaySettings NoAuth = Settings("auth = none");

    [Fact]
    public void Should_admit_the_right_token()
    {
        Assert.IsType<ConnectDecision.Admit>(Decide(Connects.Backend(), TokenAuth));
    }

    [Fact]
    public void Should_accept_the_secret_in_either_field()
    {
        var parameters = Connects.Backend(token: null);
        parameters["auth"] = new JsonObject { ["password"] = TestGateway.Token };

        Assert.IsType<ConnectDecision.Admit>(Decide(parameters, TokenAuth));
    }

    [Fact]
    public void Should_refuse_a_wrong_token_as_a_failed_login_closing_1008()
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Backend(token: "wrong"), TokenAuth));

        Assert.Equal(GatewayErrors.TokenMismatch().Message, reject.Error.Message);
        Assert.True(reject.AuthFailed);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, reject.Close);
    }

    [Fact]
    public void Should_name_the_password_when_the_gateway_uses_one()
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Backend(token: "wrong"), PasswordAuth));

        Assert.Equal(GatewayErrors.PasswordMismatch().Message, reject.Error.Message);
    }

    [Fact]
    public void Should_ask_for_a_secret_when_none_is_sent_and_count_it_as_a_failed_login()
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Backend(token: null), TokenAuth));

        Assert.Equal(GatewayErrors.DeviceIdentityRequired().Message, reject.Error.Message);
        Assert.True(reject.AuthFailed);
    }

    [Fact]
    public void Should_admit_anyone_without_auth_even_a_rate_limited_address()
    {
        Assert.IsType<ConnectDecision.Admit>(Decide(Connects.Backend(token: null), NoAuth, authRetryAfterMs: 5_000));
    }

    [Fact]
    public void Should_refuse_a_rate_limited_address_before_checking_its_secret()
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Backend(), TokenAuth, authRetryAfterMs: 5_000));

        Assert.Equal(GatewayErrors.AuthRateLimited(5_000).Message, reject.Error.Message);
        Assert.False(reject.AuthFailed);
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(3, 3)]
    public void Should_refuse_a_protocol_range_without_4_closing_1002(int min, int max)
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Params("gateway-client", "backend", minProtocol: min, maxProtocol: max), TokenAuth));

        Assert.Equal(WebSocketCloseStatus.ProtocolError, reject.Close);
        Assert.Equal("protocol_mismatch", reject.MetricReason);
    }

    [Fact]
    public void Should_accept_protocol_3_from_a_probe_and_from_a_node()
    {
        Assert.IsType<ConnectDecision.Admit>(Decide(Connects.Params("gateway-client", "probe", minProtocol: 3, maxProtocol: 3), TokenAuth));
        var node = Connects.Node();
        node["minProtocol"] = 3;
        node["maxProtocol"] = 3;
        Assert.IsType<ConnectDecision.Admit>(Decide(node, TokenAuth));
    }

    [Fact]
    public void Should_check_the_protocol_before_the_secret()
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Params("gateway-client", "backend", token: "wrong", minProtocol: 5, maxProtocol: 5), TokenAuth));

        Assert.Equal("protocol_mismatch", reject.MetricReason);
    }

    [Fact]
    public void Should_refuse_a_role_other_than_operator_or_node()
    {
        var reject = Assert.IsType<ConnectDecision.Reject>(Decide(Connects.Params("gateway-client", "backend", role: "admin"), TokenAuth));

        Assert.Equal(GatewayErrors.InvalidRole().Message, reject.Error.Message);
    }

    [Theory]
    [InlineData(null, "gateway-client", true)]
    [InlineData(null, "webchat-ui", false)]
    [InlineData(OwnOrigin, "webchat-ui", true)]
    [InlineData("HTTP://127.0.0.1:18789", "webchat-ui", true)]
    [InlineData("https://ops.example", "openclaw-control-ui", true)]
    [InlineData("https://evil.example", "webchat-ui", false)]
    [InlineData("https://evil.example", "gateway-client", false)]
    public void Should_let_browsers_in_only_from_the_gateways_own_or_a_configured_origin(string? origin, string clientId, bool admitted)
    {
        var decision = Decide(Connects.Params(clientId, "webchat", ["operator.read"]), TokenAuth, origin: origin);

        if (admitted)
            Assert.IsType<ConnectDecision.Admit>(decision);
        else
            Assert.Equal(GatewayErrors.OriginNotAllowed().Message, Assert.IsType<ConnectDecision.Reject>(decision).Error.Message);
    }

    private static ConnectDecision Decide(JsonObject parameters, GatewaySettings settings, int? authRetryAfterMs = null, string? origin = null)
    {
        var element = JsonSerializer.Deserialize<JsonElement>(parameters.ToJsonString());
        Assert.True(ConnectParamsValidator.TryValidate(element, out var valid, out var error), error);
        var peer = new PeerInfo(ConnectionId.New(), IPAddress.Parse("198.51.100.7"), origin, OwnOrigin);
        return ConnectPolicy.Decide(valid!, peer, settings, authRetryAfterMs);
    }

    private static GatewaySettings Settings(string gateway) => GatewaySettings.Create(ConfigurationFactory.ParseString($"gateway {{ {gateway} }}"));
}
