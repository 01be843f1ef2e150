using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Protocol;

public sealed class ConnectParamsValidatorSpecs
{
    private const string InvalidPrefix = "invalid connect params: ";

    private const string Valid =
        """{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"1.0.0","platform":"linux","mode":"backend"}}""";

    public static TheoryData<string, string, string> RejectedConnects()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var exchange in ConnectExchanges().Where(e => IsParamsError(e.ErrorMessage)))
            data.Add(exchange.Source, exchange.Request["params"]!.ToJsonString(), exchange.ErrorMessage!);
        return data;
    }

    /// <summary>Connects the gateway got past step 3 with (accepted, or refused later for role, auth, origin, protocol).</summary>
    public static TheoryData<string, string> ValidConnects()
    {
        var data = new TheoryData<string, string>();
        foreach (var exchange in ConnectExchanges().Where(e => e.Request["params"] is JsonObject && !IsParamsError(e.ErrorMessage) && IsRequest(e)))
            data.Add(exchange.Source, exchange.Request["params"]!.ToJsonString());
        data.Add("01-hello-ok-full.json", Captures.Load("01-hello-ok-full.json")["connectRequest"]!["params"]!.ToJsonString());
        return data;
    }

    [Theory]
    [MemberData(nameof(RejectedConnects))]
    public void Should_reject_connect_params_with_the_captured_message(string source, string parameters, string message)
    {
        Assert.False(ConnectParamsValidator.TryValidate(Element(parameters), out var value, out var error), source);
        Assert.Equal(message, error);
        Assert.Null(value);
    }

    [Theory]
    [MemberData(nameof(ValidConnects))]
    public void Should_accept_every_connect_params_the_gateway_validated(string source, string parameters)
    {
        var valid = ConnectParamsValidator.TryValidate(Element(parameters), out var value, out var error);

        Assert.True(valid, $"{source}: {error}");
        Assert.NotNull(value);
        Assert.Null(error);
    }

    [Fact]
    public void Should_reject_the_60KiB_padded_connect_with_the_captured_message()
    {
        var capture = Captures.Load("errors/handshake-preauth-frame-60KiB-invalid.json");
        var expected = capture["frames"]!.AsArray().Single(f => f!["frame"]?["type"]?.GetValue<string>() == "res")!["frame"]!["error"]!["message"]!.GetValue<string>();
        var frameText = $"{{\"type\":\"req\",\"id\":\"big\",\"method\":\"connect\",\"params\":{{\"pad\":\"{new string('x', 60 * 1024)}\"}}}}";

        var frame = Assert.IsType<RequestFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(frameText)));
        ConnectParamsValidator.TryValidate(frame.Params, out _, out var error);

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(null, "must be object")]
    [InlineData("null", "must be object")]
    [InlineData("[]", "must be object")]
    [InlineData("{}", "must have required property 'minProtocol'")]
    [InlineData("""{"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}""", "must have required property 'minProtocol'")]
    [InlineData("""{"minProtocol":0,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}""", "at /minProtocol: must be >= 1")]
    [InlineData("""{"minProtocol":"4","maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}""", "at /minProtocol: must be integer")]
    [InlineData("""{"minProtocol":4.5,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}""", "at /minProtocol: must be integer")]
    [InlineData("""{"minProtocol":4,"maxProtocol":0.5,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}""", "at /maxProtocol: must be integer; at /maxProtocol: must be >= 1")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":"cli"}""", "at /client: must be object")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","platform":"linux","mode":"cli"}}""", "at /client: must have required property 'version'")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"","platform":"linux","mode":"cli"}}""", "at /client/version: must NOT have fewer than 1 characters")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","x":1}}""", "at /client: unexpected property 'x'")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":7,"version":"1","platform":"linux","mode":"cli"}}""", "at /client/id: must be equal to one of the allowed values")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","displayName":""}}""", "at /client/displayName: must NOT have fewer than 1 characters")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","timeZone":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}""", "at /client/timeZone: must NOT have more than 64 characters")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","buildId":5}}""", "at /client/buildId: must be string")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"role":5}""", "at /role: must be string")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"role":""}""", "at /role: must NOT have fewer than 1 characters")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"scopes":"operator.read"}""", "at /scopes: must be array")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"scopes":["operator.read",1,""]}""", "at /scopes/1: must be string; at /scopes/2: must NOT have fewer than 1 characters")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"caps":[null]}""", "at /caps/0: must be string")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"commands":{}}""", "at /commands: must be array")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"permissions":{"camera":true,"a/b":"yes"}}""", "at /permissions/a~1b: must be boolean")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"permissions":[]}""", "at /permissions: must be object")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"auth":{"token":5}}""", "at /auth/token: must be string")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"auth":{"token":"t","secret":"s"}}""", "at /auth: unexpected property 'secret'")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"device":{"id":"d","publicKey":"k","signature":"s","signedAt":1}}""", "at /device: must have required property 'nonce'")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"device":{"id":"d","publicKey":"k","signature":"s","signedAt":-1,"nonce":"n"}}""", "at /device/signedAt: must be >= 0")]
    [InlineData("""{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"locale":1,"userAgent":2,"pathEnv":3}""", "at /pathEnv: must be string; at /locale: must be string; at /userAgent: must be string")]
    [InlineData("""{"client":{"id":"nope","version":"1","platform":"linux","mode":"cli","x":1},"extra":1}""", "must have required property 'minProtocol'; at root: unexpected property 'extra'; at /client: unexpected property 'x'; at /client/id: must be equal to one of the allowed values")]
    public void Should_describe_every_violation_in_schema_order(string? parameters, string message)
    {
        Assert.False(ConnectParamsValidator.TryValidate(parameters is null ? null : Element(parameters), out _, out var error));
        Assert.Equal(InvalidPrefix + message, error);
    }

    [Theory]
    [InlineData("""{"role":"admin"}""")]
    [InlineData("""{"minProtocol":99,"maxProtocol":1}""")]
    [InlineData("""{"minProtocol":4.0,"maxProtocol":1e2}""")]
    [InlineData("""{"computerUse":{"anything":[1,2]},"workerRuns":null}""")]
    [InlineData("""{"caps":[],"commands":["a"],"permissions":{},"pathEnv":"","locale":"de","userAgent":"x","scopes":[]}""")]
    [InlineData("""{"auth":{"token":"","bootstrapToken":"b","deviceToken":"d","password":"p","approvalRuntimeToken":"a","agentRuntimeIdentityToken":"i"}}""")]
    public void Should_leave_role_and_protocol_range_to_later_handshake_steps(string overrides)
    {
        var parameters = JsonNode.Parse(Valid)!.AsObject();
        foreach (var (name, value) in JsonNode.Parse(overrides)!.AsObject())
            parameters[name] = value?.DeepClone();

        Assert.True(ConnectParamsValidator.TryValidate(Element(parameters.ToJsonString()), out _, out var error), error);
    }

    [Fact]
    public void Should_read_every_field_the_handshake_needs()
    {
        const string parameters = """
            {"minProtocol":3,"maxProtocol":4,"role":"node","scopes":["operator.read"],
             "client":{"id":"node-host","version":"2026.9.6","platform":"linux","mode":"node","displayName":"n1",
                       "instanceId":"i1","deviceFamily":"Linux","modelIdentifier":"m","timeZone":"Europe/Vienna","buildId":"b"},
             "auth":{"token":"t","password":"p","deviceToken":"dt","bootstrapToken":"bt"},
             "device":{"id":"d","publicKey":"k","signature":"s","signedAt":1795630252971,"nonce":"n"}}
            """;

        Assert.True(ConnectParamsValidator.TryValidate(Element(parameters), out var value, out _));

        Assert.Equal((3, 4, "node"), (value!.MinProtocol, value.MaxProtocol, value.Role));
        Assert.Equal<string>(["operator.read"], value.Scopes);
        Assert.Equal(
            new ClientInfo
            {
                Id = "node-host", Version = "2026.9.6", Platform = "linux", Mode = "node", DisplayName = "n1", InstanceId = "i1",
                DeviceFamily = "Linux", ModelIdentifier = "m", TimeZone = "Europe/Vienna", BuildId = "b",
            },
            value.Client);
        Assert.Equal(new AuthParams("t", "p") { DeviceToken = "dt", BootstrapToken = "bt" }, value.Auth);
        Assert.Equal(new DeviceParams("d", "k", "s", 1795630252971, "n"), value.Device);
    }

    [Fact]
    public void Should_default_the_role_to_operator_and_saturate_huge_protocol_numbers()
    {
        var parameters = JsonNode.Parse(Valid)!.AsObject();
        parameters["maxProtocol"] = JsonNode.Parse("1e300");

        Assert.True(ConnectParamsValidator.TryValidate(Element(parameters.ToJsonString()), out var value, out _));

        Assert.Equal("operator", value!.Role);
        Assert.Equal(int.MaxValue, value.MaxProtocol);
        Assert.Null(value.Auth);
        Assert.Null(value.Device);
    }

    private static IEnumerable<Exchange> ConnectExchanges() => Captures.Exchanges.Where(e => e.Method == "connect");

    /// <summary>Frames that fail step 1 (e.g. no id) never get their params checked.</summary>
    private static bool IsRequest(Exchange exchange) => FrameParser.Parse(exchange.RequestBytes) is RequestFrame;

    private static bool IsParamsError(string? message) => message?.StartsWith(InvalidPrefix, StringComparison.Ordinal) == true;

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement;
}
