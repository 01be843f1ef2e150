using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Protocol;

public sealed class GatewayErrorsSpecs
{
    private static readonly Dictionary<string, Func<GatewayError>> Factories = new(StringComparer.Ordinal)
    {
        ["invalid-handshake"] = GatewayErrors.InvalidHandshake,
        ["protocol-mismatch-5-5"] = () => GatewayErrors.ProtocolMismatch(5, 5),
        ["protocol-mismatch-3-3"] = () => GatewayErrors.ProtocolMismatch(3, 3),
        ["invalid-role"] = GatewayErrors.InvalidRole,
        ["token-mismatch"] = GatewayErrors.TokenMismatch,
        ["device-identity-required"] = GatewayErrors.DeviceIdentityRequired,
        ["origin-not-allowed"] = () => GatewayErrors.OriginNotAllowed("origin missing or invalid"),
        ["device-signature-invalid"] = () => GatewayErrors.DeviceAuthFailed(DeviceAuthFailure.SignatureInvalid),
        ["device-id-mismatch"] = () => GatewayErrors.DeviceAuthFailed(DeviceAuthFailure.DeviceIdMismatch),
        ["device-nonce-mismatch"] = () => GatewayErrors.DeviceAuthFailed(DeviceAuthFailure.NonceMismatch),
        ["unknown-method"] = () => GatewayErrors.UnknownMethod("no.such.method"),
        ["connect-only-first"] = GatewayErrors.ConnectOnlyFirst,
        ["missing-read"] = () => GatewayErrors.MissingScope(Scopes.Read),
        ["missing-admin"] = () => GatewayErrors.MissingScope(Scopes.Admin),
        ["unauthorized-node"] = () => GatewayErrors.UnauthorizedRole("node"),
        ["connect-params-bogus"] = () => GatewayErrors.InvalidConnectParams("invalid connect params: at root: unexpected property 'bogus'"),
        ["request-frame-missing-id"] = () => GatewayErrors.InvalidRequestFrame("invalid request frame: must have required property 'id'"),
        ["system-event-text-required"] = () => GatewayErrors.InvalidSystemEventParams(SystemEventValidator.TextRequired),
    };

    /// <summary>Capture file, JSON path to its error object, factory that must reproduce it.</summary>
    public static TheoryData<string, string, string> CapturedErrors() => new()
    {
        { "errors/handshake-first-frame-is-non-connect-request.json", "frames.2.frame.error", "invalid-handshake" },
        { "errors/handshake-protocol-mismatch-v5.json", "frames.2.frame.error", "protocol-mismatch-5-5" },
        { "errors/handshake-protocol-mismatch-operator-v3.json", "frames.2.frame.error", "protocol-mismatch-3-3" },
        { "errors/handshake-invalid-role.json", "frames.2.frame.error", "invalid-role" },
        { "errors/handshake-wrong-token.json", "frames.2.frame.error", "token-mismatch" },
        { "errors/handshake-wrong-password-field.json", "frames.2.frame.error", "token-mismatch" },
        { "errors/handshake-missing-token.json", "frames.2.frame.error", "device-identity-required" },
        { "errors/handshake-node-without-device.json", "frames.2.frame.error", "device-identity-required" },
        { "errors/handshake-control-ui-without-device.json", "frames.2.frame.error", "origin-not-allowed" },
        { "errors/handshake-device-bad-signature.json", "frames.2.frame.error", "device-signature-invalid" },
        { "errors/handshake-device-id-mismatch.json", "frames.2.frame.error", "device-id-mismatch" },
        { "errors/handshake-device-nonce-mismatch.json", "frames.2.frame.error", "device-nonce-mismatch" },
        { "errors/post-hello-unknown-method.json", "frames.1.frame.error", "unknown-method" },
        { "errors/post-hello-second-connect-after-hello.json", "frames.1.frame.error", "connect-only-first" },
        { "errors/handshake-connect-extra-property.json", "frames.2.frame.error", "connect-params-bogus" },
        { "errors/post-hello-request-missing-id.json", "frames.1.frame.error", "request-frame-missing-id" },
        { "02-18-system-event-errors.json", "blankText.error", "system-event-text-required" },
        { "02-19-scope-and-role-errors.json", "u1_noScopes_systemPresence.error", "missing-read" },
        { "02-19-scope-and-role-errors.json", "u2_readScope_systemEvent.error", "missing-admin" },
        { "02-19-scope-and-role-errors.json", "n1_node_systemPresence.error", "unauthorized-node" },
    };

    [Theory]
    [MemberData(nameof(CapturedErrors))]
    public void Should_write_the_error_the_real_gateway_sent(string file, string path, string factory)
    {
        var expected = path.Split('.').Aggregate(Captures.Load(file), (node, step) =>
            (int.TryParse(step, out var index) ? node[index] : node[step])!);

        var written = Write(Factories[factory]());

        Assert.True(JsonNode.DeepEquals(expected, written), $"expected {expected.ToJsonString()}\nwritten  {written.ToJsonString()}");
    }

    [Fact]
    public void Should_write_fields_in_wire_order_and_omit_absent_ones()
    {
        Assert.Equal("""{"code":"INVALID_REQUEST","message":"invalid role"}""", Write(GatewayErrors.InvalidRole()).ToJsonString());
        Assert.Equal(
            """{"code":"UNAVAILABLE","message":"gateway starting; retry shortly","retryable":true,"retryAfterMs":500}""",
            Write(GatewayErrors.GatewayStarting()).ToJsonString());
    }

    [Fact]
    public void Should_mark_rate_limiting_as_retryable_with_its_detail_code()
    {
        var error = GatewayErrors.AuthRateLimited(60_000);

        Assert.Equal(("INVALID_REQUEST", "unauthorized: too many failed authentication attempts (retry later)"), (error.Code, error.Message));
        Assert.Equal((true, 60_000), (error.Retryable, error.RetryAfterMs));
        Assert.Equal("AUTH_RATE_LIMITED", error.Details!["code"]!.GetValue<string>());
    }

    [Fact]
    public void Should_never_send_a_negative_retry_delay()
    {
        Assert.Equal(0, GatewayErrors.Unavailable("busy", -1).RetryAfterMs);
    }

    [Fact]
    public void Should_word_password_mismatches_like_token_mismatches()
    {
        var error = GatewayErrors.PasswordMismatch();

        Assert.Equal("unauthorized: gateway password mismatch (provide gateway auth password)", error.Message);
        Assert.Equal("AUTH_PASSWORD_MISMATCH", error.Details!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(nameof(DeviceAuthFailure.SignatureExpired), "device signature expired", "DEVICE_AUTH_SIGNATURE_EXPIRED", "device-signature-stale")]
    [InlineData(nameof(DeviceAuthFailure.NonceRequired), "device nonce required", "DEVICE_AUTH_NONCE_REQUIRED", "device-nonce-missing")]
    [InlineData(nameof(DeviceAuthFailure.PublicKeyInvalid), "device public key invalid", "DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key")]
    public void Should_word_uncaptured_device_failures_per_the_spec(string failure, string message, string code, string reason)
    {
        var error = GatewayErrors.DeviceAuthFailed(Enum.Parse<DeviceAuthFailure>(failure));

        Assert.Equal((message, code, reason), (error.Message, error.Details!["code"]!.GetValue<string>(), error.Details!["reason"]!.GetValue<string>()));
    }

    private static JsonNode Write(GatewayError error)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            ErrorJson.Write(writer, error);
        return JsonNode.Parse(buffer.ToArray())!;
    }
}
