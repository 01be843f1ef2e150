using System.Globalization;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// captures/errors/handshake-*.json: the client's first frame is replayed byte for byte (the redacted
/// token replaced by this gateway's), and the response, close code and close reason must match the
/// capture's <c>in</c> and <c>close</c> frames. Where a capture's connection ends with 1000 after a
/// hello-ok, that close came from the probe client, not from the server.
/// </summary>
public sealed class HandshakeErrorSpecs(ITestOutputHelper output)
{
    private const string Token = TestGateway.Token;

    private const string WrongTokenMessage = "unauthorized: gateway token mismatch (provide gateway auth token)";

    private static readonly JsonObject TokenMismatchDetails = new()
    {
        ["code"] = "AUTH_TOKEN_MISMATCH",
        ["authReason"] = "token_mismatch",
        ["canRetryWithDeviceToken"] = false,
        ["recommendedNextStep"] = "update_auth_credentials",
    };

    /// <summary>The probe's standard backend connect with the given protocol range.</summary>
    private static string BackendConnect(string id, int min, int max, string client = "gateway-client", string mode = "backend", string scope = "operator.admin") =>
        Unredact("""{"type":"req","id":"ID","method":"connect","params":{"minProtocol":MIN,"maxProtocol":MAX,"client":{"id":"CLIENT","version":"probe-1.0.0","platform":"linux","mode":"MODE"},"caps":[],"role":"operator","scopes":["SCOPE"],"auth":{"token":"<redacted:token>"}}}""")
            .Replace("\"ID\"", $"\"{id}\"", StringComparison.Ordinal)
            .Replace("MIN", min.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("MAX", max.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("\"CLIENT\"", $"\"{client}\"", StringComparison.Ordinal)
            .Replace("\"MODE\"", $"\"{mode}\"", StringComparison.Ordinal)
            .Replace("\"SCOPE\"", $"\"{scope}\"", StringComparison.Ordinal);

    /// <summary>Puts this gateway's secret where the capture redacted the probe's.</summary>
    private static string Unredact(string captured) =>
        captured.Replace("<redacted:token>", Token, StringComparison.Ordinal).Replace("<redacted:password>", Token, StringComparison.Ordinal);

    [Fact]
    public async Task Should_accept_connect_sent_as_a_binary_frame()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        await client.SendBinaryAsync(BackendConnect("bin1", 4, 4));

        var response = await client.ReceiveResponseAsync("bin1");
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        Assert.Equal("hello-ok", (string?)response["payload"]!["type"]);
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task Should_reject_connect_params_with_an_extra_property()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"probe-1.0.0","platform":"linux","mode":"backend"},"caps":[],"role":"operator","scopes":["operator.admin"],"auth":{"token":"<redacted:token>"},"bogus":true}}""");
        await AssertRejectedAsync(frame, "c1", "INVALID_REQUEST", "invalid connect params: at root: unexpected property 'bogus'", null, 1008);
    }

    [Fact]
    public async Task Should_reject_connect_params_without_client()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"auth":{"token":"<redacted:token>"}}}""");
        await AssertRejectedAsync(frame, "c1", "INVALID_REQUEST", "invalid connect params: must have required property 'client'", null, 1008);
    }

    [Fact]
    public async Task Should_accept_connect_sent_before_the_challenge_was_read()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();

        // Sent at once on open, as the capture did; the challenge is read only afterwards.
        await client.SendTextAsync(BackendConnect("c-early", 4, 4));

        var challenge = await client.ReceiveAsync();
        Assert.True(IsEvent(challenge, "connect.challenge"), challenge.ToJsonString());
        var response = await client.ReceiveResponseAsync("c-early");
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        Assert.Equal("hello-ok", (string?)response["payload"]!["type"]);
    }

    [Fact]
    public async Task Should_reject_an_unknown_client_id()
    {
        await AssertRejectedAsync(BackendConnect("c1", 4, 4, client: "my-csharp-app"), "c1", "INVALID_REQUEST",
            "invalid connect params: at /client/id: must be equal to one of the allowed values", null, 1008);
    }

    [Fact]
    public async Task Should_reject_an_unknown_client_mode()
    {
        await AssertRejectedAsync(BackendConnect("c1", 4, 4, mode: "daemon"), "c1", "INVALID_REQUEST",
            "invalid connect params: at /client/mode: must be equal to one of the allowed values", null, 1008);
    }

    [Fact]
    public async Task Should_reject_the_control_ui_without_an_origin()
    {
        await AssertRejectedAsync(BackendConnect("c1", 4, 4, client: "openclaw-control-ui", mode: "ui"), "c1", "INVALID_REQUEST",
            "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
            new JsonObject { ["code"] = "CONTROL_UI_ORIGIN_NOT_ALLOWED", ["reason"] = "origin missing or invalid" }, 1008);
    }

    // The three device-auth captures: the real gateway verifies the Ed25519 signature, the device id
    // (SHA-256 of the key) and the challenge nonce. This gateway accepts device blocks unverified
    // (gateway-protocol.md §3.2/§3.3: a shared-secret operator needs no device identity), so each of
    // these connects succeeds and keeps its requested scopes. Deviation by design.

    [Fact]
    public async Task Should_accept_a_device_with_a_bad_signature_because_devices_are_not_verified()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"openclaw-macos","version":"probe-1.0.0","platform":"linux","mode":"ui"},"caps":[],"role":"operator","scopes":["operator.read"],"auth":{"token":"<redacted:token>"},"device":{"id":"34450b036795e9a9ec4c4bf3792d1885d57489896fb2def25d9e97b7c712dd9a","publicKey":"umhXg9wESe5VebPl_7p48jgtuegZICFw4Oj3gxMb5R4","signature":"AAAA","signedAt":1795630252971,"nonce":"603d6208-f3e2-4bbd-bf27-59faf4692587"}}}""");
        await AssertDeviceAcceptedAsync(frame, "34450b036795e9a9ec4c4bf3792d1885d57489896fb2def25d9e97b7c712dd9a");
    }

    [Fact]
    public async Task Should_accept_a_device_whose_id_does_not_match_its_key_because_devices_are_not_verified()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"openclaw-macos","version":"probe-1.0.0","platform":"linux","mode":"ui"},"caps":[],"role":"operator","scopes":["operator.read"],"auth":{"token":"<redacted:token>"},"device":{"id":"abc","publicKey":"umhXg9wESe5VebPl_7p48jgtuegZICFw4Oj3gxMb5R4","signature":"AAAA","signedAt":1795630252978,"nonce":"33d40bd1-16c3-41ba-b163-cd69f8605ab2"}}}""");
        await AssertDeviceAcceptedAsync(frame, "abc");
    }

    [Fact]
    public async Task Should_accept_a_device_with_the_wrong_nonce_because_devices_are_not_verified()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"openclaw-macos","version":"probe-1.0.0","platform":"linux","mode":"ui"},"caps":[],"role":"operator","scopes":["operator.read"],"auth":{"token":"<redacted:token>"},"device":{"id":"34450b036795e9a9ec4c4bf3792d1885d57489896fb2def25d9e97b7c712dd9a","publicKey":"umhXg9wESe5VebPl_7p48jgtuegZICFw4Oj3gxMb5R4","signature":"AAAA","signedAt":1795630252963,"nonce":"wrong-nonce"}}}""");
        await AssertDeviceAcceptedAsync(frame, "34450b036795e9a9ec4c4bf3792d1885d57489896fb2def25d9e97b7c712dd9a");
    }

    [Fact]
    public async Task Should_reject_a_first_request_that_is_not_connect()
    {
        await AssertRejectedAsync("""{"type":"req","id":"r1","method":"health","params":{}}""", "r1", "INVALID_REQUEST",
            "invalid handshake: first request must be connect", null, 1008);
    }

    [Fact]
    public async Task Should_close_1000_without_a_response_on_malformed_json_first()
    {
        await AssertClosedWithoutResponseAsync("{this is not json", 1000, "");
    }

    [Fact]
    public async Task Should_close_1008_without_a_response_when_the_first_frame_is_not_a_request()
    {
        await AssertClosedWithoutResponseAsync("""{"type":"event","event":"hello","payload":{}}""", 1008, "invalid request frame");
    }

    [Fact]
    public async Task Should_close_1008_without_a_response_when_the_first_request_has_no_id()
    {
        await AssertClosedWithoutResponseAsync("""{"type":"req","method":"connect","params":{}}""", 1008, "invalid request frame");
    }

    [Fact]
    public async Task Should_reject_an_invalid_role()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"probe-1.0.0","platform":"linux","mode":"backend"},"caps":[],"role":"admin","scopes":["operator.admin"],"auth":{"token":"<redacted:token>"}}}""");
        await AssertRejectedAsync(frame, "c1", "INVALID_REQUEST", "invalid role", null, 1008);
    }

    [Fact]
    public async Task Should_require_a_device_identity_when_no_credentials_are_sent()
    {
        var frame = """{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"probe-1.0.0","platform":"linux","mode":"backend"},"caps":[],"role":"operator","scopes":["operator.admin"],"auth":{}}}""";
        await AssertRejectedAsync(frame, "c1", "NOT_PAIRED", "device identity required", new JsonObject { ["code"] = "DEVICE_IDENTITY_REQUIRED" }, 1008);
    }

    /// <summary>
    /// The real gateway refuses a node without a device (NOT_PAIRED). This gateway admits it with the
    /// shared secret and keys its row by client.instanceId (presence-rules.md: "node: device.id, then
    /// instanceId"). Deviation by design.
    /// </summary>
    [Fact]
    public async Task Should_admit_a_node_without_a_device_and_key_its_row_by_instance_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"node-host","version":"probe-1.0.0","platform":"linux","mode":"node","instanceId":"node-without-device"},"caps":[],"role":"node","scopes":[],"auth":{"token":"<redacted:token>"}}}""");
        await client.SendTextAsync(frame);

        var response = await client.ReceiveResponseAsync("c1");
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        Assert.Equal("node", (string?)response["payload"]!["auth"]!["role"]);
        var presence = await watcher.ReceivePresenceAsync(list => HasInstance(list, "node-without-device"));
        var row = SingleRowByInstance(PresenceList(presence), "node-without-device");
        Assert.Equal("node-connected", (string?)row["reason"]);
        Assert.Null(row["deviceId"]);
    }

    [Fact]
    public async Task Should_close_1009_on_a_pre_auth_frame_over_64_KiB()
    {
        await AssertClosedWithoutResponseAsync(PaddedConnect(71_744), 1009, "");
    }

    [Fact]
    public async Task Should_answer_a_60_KiB_pre_auth_frame_as_invalid_params()
    {
        const string message = "invalid connect params: must have required property 'minProtocol'; at root: unexpected property 'pad'";
        await AssertRejectedAsync(PaddedConnect(61_504), "big", "INVALID_REQUEST", message, null, 1008);
    }

    [Fact]
    public async Task Should_accept_protocol_3_for_probe_mode()
    {
        await AssertAcceptedAsync(BackendConnect("c1", 3, 3, client: "openclaw-probe", mode: "probe", scope: "operator.read"), "c1");
    }

    [Fact]
    public async Task Should_reject_protocol_3_for_an_operator_with_1002()
    {
        await AssertRejectedAsync(BackendConnect("c1", 3, 3), "c1", "INVALID_REQUEST", "protocol mismatch", MismatchDetails(3, 3), 1002);
    }

    [Fact]
    public async Task Should_reject_protocol_5_with_1002()
    {
        await AssertRejectedAsync(BackendConnect("c1", 5, 5), "c1", "INVALID_REQUEST", "protocol mismatch", MismatchDetails(5, 5), 1002);
    }

    [Fact]
    public async Task Should_accept_a_protocol_range_that_contains_4()
    {
        await AssertAcceptedAsync(BackendConnect("c1", 3, 5), "c1");
    }

    [Fact]
    public async Task Should_close_1000_when_no_connect_arrives_within_the_handshake_timeout()
    {
        await using var gateway = await TestGateway.StartAsync("gateway.handshake-timeout = 400ms");
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();
        var opened = System.Diagnostics.Stopwatch.StartNew();

        var close = await client.WaitForCloseAsync();

        AssertClose(close, 1000, "");
        // Not before the configured timeout (a little slack for timer granularity).
        Assert.True(opened.Elapsed >= TimeSpan.FromMilliseconds(300), $"closed after only {opened.ElapsedMilliseconds} ms");
        Assert.Single(client.History);
    }

    [Fact]
    public async Task Should_accept_the_token_in_the_password_field()
    {
        var frame = Unredact("""{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"probe-1.0.0","platform":"linux","mode":"backend"},"caps":[],"role":"operator","scopes":["operator.admin"],"auth":{"password":"<redacted:token>"}}}""");
        await AssertAcceptedAsync(frame, "c1");
    }

    [Fact]
    public async Task Should_answer_a_wrong_password_field_with_the_token_mismatch_error()
    {
        var frame = """{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"probe-1.0.0","platform":"linux","mode":"backend"},"caps":[],"role":"operator","scopes":["operator.admin"],"auth":{"password":"not-the-secret"}}}""";
        await AssertRejectedAsync(frame, "c1", "INVALID_REQUEST", WrongTokenMessage, TokenMismatchDetails, 1008);
    }

    [Fact]
    public async Task Should_reject_a_wrong_token()
    {
        var frame = """{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"gateway-client","version":"probe-1.0.0","platform":"linux","mode":"backend"},"caps":[],"role":"operator","scopes":["operator.admin"],"auth":{"token":"not-the-secret"}}}""";
        await AssertRejectedAsync(frame, "c1", "INVALID_REQUEST", WrongTokenMessage, TokenMismatchDetails, 1008);
    }

    /// <summary>
    /// Frames that arrive while the connect is still being processed are queued (at most 15,
    /// then close 1008 "too many pending handshake frames"). The window is a few microseconds
    /// here, so the test accepts either outcome of the race but checks each one exactly: either
    /// the limit closes the socket with that reason, or every queued request is answered in order.
    /// </summary>
    [Fact]
    public async Task Should_queue_requests_sent_right_behind_connect_or_close_on_too_many()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        // One write burst: connect and 20 requests back to back, without waiting for hello-ok.
        await client.SendTextAsync(BackendConnect("c1", 4, 4));
        for (var i = 0; i < 20; i++)
            await client.SendTextAsync("{\"type\":\"req\",\"id\":\"q" + i.ToString(CultureInfo.InvariantCulture) + "\",\"method\":\"health\"}");

        var responses = new List<JsonObject>();
        while (responses.Count < 21)
        {
            try
            {
                responses.Add(await client.ReceiveUntilAsync(f => (string?)f["type"] == "res", what: "a response"));
            }
            catch (Xunit.Sdk.XunitException) when (client.IsClosed)
            {
                break;
            }
        }

        if (responses.Count == 21)
        {
            Assert.Equal(["c1", .. Enumerable.Range(0, 20).Select(i => $"q{i}")], responses.Select(r => (string?)r["id"]));
            Assert.All(responses, r => Assert.True(r["ok"]!.GetValue<bool>(), r.ToJsonString()));
            output.WriteLine("The hello-ok came back before 15 frames were pending: all 20 queued requests were answered in order.");
        }
        else
        {
            AssertClose(await client.WaitForCloseAsync(), 1008, "too many pending handshake frames");
            output.WriteLine("The pending-frame limit closed the socket.");
        }
    }

    private static JsonObject MismatchDetails(int min, int max) => new()
    {
        ["code"] = "PROTOCOL_MISMATCH",
        ["clientMinProtocol"] = min,
        ["clientMaxProtocol"] = max,
        ["expectedProtocol"] = 4,
        ["minimumProbeProtocol"] = 3,
    };

    /// <summary>The capture's oversize probe: a connect whose params are one long pad, <paramref name="bytes"/> long in total.</summary>
    private static string PaddedConnect(int bytes)
    {
        const string head = "{\"type\":\"req\",\"id\":\"big\",\"method\":\"connect\",\"params\":{\"pad\":\"";
        const string tail = "\"}}";
        return head + new string('x', bytes - head.Length - tail.Length) + tail;
    }

    private static async Task AssertRejectedAsync(string frame, string id, string code, string message, JsonObject? details, int closeCode)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        await client.SendTextAsync(frame);

        var response = await client.ReceiveAsync();
        AssertError(response, id, code, message, details);
        AssertClose(await client.WaitForCloseAsync(), closeCode, message);
        Assert.Equal(2, client.History.Count);
    }

    private static async Task AssertClosedWithoutResponseAsync(string frame, int closeCode, string reason)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        await client.SendTextAsync(frame);

        AssertClose(await client.WaitForCloseAsync(), closeCode, reason);
        Assert.Single(client.History);
    }

    private static async Task AssertAcceptedAsync(string frame, string id)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        await client.SendTextAsync(frame);

        var response = await client.ReceiveResponseAsync(id);
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        var hello = response["payload"]!;
        Assert.Equal("hello-ok", (string?)hello["type"]);
        Assert.Equal(4, hello["protocol"]!.GetValue<int>());
        // The connection is usable afterwards.
        Assert.True((await client.CallOkAsync("health"))!["ok"]!.GetValue<bool>());
    }

    private static async Task AssertDeviceAcceptedAsync(string frame, string deviceId)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        await client.SendTextAsync(frame);

        var response = await client.ReceiveResponseAsync("c1");
        Assert.True(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        var auth = response["payload"]!["auth"]!;
        Assert.Equal("operator", (string?)auth["role"]);
        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.read"), auth["scopes"]), auth.ToJsonString());
        // The unverified device id is still recorded on the connection's row.
        var presence = await client.ReceivePresenceAsync(list => Rows(list).Any(row => (string?)row["deviceId"] == deviceId));
        Assert.NotNull(presence);
        Assert.False(client.IsClosed);
    }
}
