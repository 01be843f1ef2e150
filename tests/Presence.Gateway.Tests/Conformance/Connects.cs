using System.Text.Json.Nodes;

namespace Presence.Gateway.Tests.Conformance;

/// <summary><c>connect</c> params shaped like the captures' clients, with the suite's token.</summary>
internal static class Connects
{
    /// <summary>A device block as the probe sent it; this gateway does not verify the signature.</summary>
    public const string MacDeviceId = "04bf13dd69639269549dbd6ea4bf1f19032e973e972c59ce95e0de21362f96bf";
    public const string NodeDeviceId = "c7ff8cf2749610396c3b10b1462e9767eabea33f45b58dd7bb0c6c464785ed73";

    /// <summary>Any client identity; optional fields are left out when null.</summary>
    public static JsonObject Params(
        string clientId,
        string mode,
        string[]? scopes = null,
        string role = "operator",
        string? token = TestGateway.Token,
        string? instanceId = null,
        string? displayName = null,
        string version = "probe-1.0.0",
        string platform = "linux",
        JsonObject? device = null,
        int minProtocol = 4,
        int maxProtocol = 4)
    {
        var client = new JsonObject { ["id"] = clientId, ["version"] = version, ["platform"] = platform, ["mode"] = mode };
        if (displayName is not null)
            client["displayName"] = displayName;
        if (instanceId is not null)
            client["instanceId"] = instanceId;
        var parameters = new JsonObject
        {
            ["minProtocol"] = minProtocol,
            ["maxProtocol"] = maxProtocol,
            ["client"] = client,
            ["caps"] = new JsonArray(),
            ["role"] = role,
            ["scopes"] = new JsonArray([.. (scopes ?? []).Select(s => (JsonNode)s)]),
            ["auth"] = token is null ? new JsonObject() : new JsonObject { ["token"] = token },
        };
        if (device is not null)
            parameters["device"] = device;
        return parameters;
    }

    /// <summary>The reference client's default identity (captures 01, 02-00): gateway-client/backend with operator.admin.</summary>
    public static JsonObject Backend(string[]? scopes = null, string? token = TestGateway.Token) =>
        Params("gateway-client", "backend", scopes ?? ["operator.admin"], token: token);

    /// <summary>The CLI (capture 06): cli/cli, untracked by default; admin so it can also send beacons.</summary>
    public static JsonObject Cli(string[]? scopes = null, string? instanceId = null) =>
        Params("cli", "cli", scopes ?? ["operator.admin"], instanceId: instanceId);

    /// <summary>U1 of capture 02-01: test/ui with an instanceId, no device.</summary>
    public static JsonObject UiNoDevice(string instanceId = "Probe-UI-Instance-1", string[]? scopes = null)
    {
        var parameters = Params("test", "ui", scopes ?? ["operator.read"], instanceId: instanceId, displayName: "Probe-UI-Host", version: "1.2.3", platform: "macos 15.1");
        var client = parameters["client"]!.AsObject();
        client["deviceFamily"] = "Mac";
        client["modelIdentifier"] = "Mac15,3";
        client["timeZone"] = "Europe/Vienna";
        return parameters;
    }

    /// <summary>U2 of capture 02-02: openclaw-macos/ui, same instanceId in another case, with a device block.</summary>
    public static JsonObject UiWithDevice(string instanceId = "PROBE-UI-INSTANCE-1", string[]? scopes = null)
    {
        var parameters = Params("openclaw-macos", "ui", scopes ?? ["operator.read"], instanceId: instanceId, displayName: "Probe-Mac-2", version: "2.0.0", platform: "macos 15.1",
            device: Device(MacDeviceId, "6SF_jtiQXi7IKsCyEqZ4YzbQbbZaN2fv5euQ_HqyJX0"));
        parameters["client"]!["deviceFamily"] = "Mac";
        return parameters;
    }

    /// <summary>N1 of capture 02-06: node-host/node with a device block.</summary>
    public static JsonObject Node(string deviceId = NodeDeviceId, bool withDevice = true)
    {
        var parameters = Params("node-host", "node", [], role: "node", instanceId: "probe-node-instance", displayName: "probe-node-1", version: "2026.9.6",
            device: withDevice ? Device(deviceId, "AaZagrpRTxXU-Lsn-dF-XCPXcDpTmu6iqebxZjcIoy4") : null);
        parameters["client"]!["deviceFamily"] = "Linux";
        parameters["caps"] = new JsonArray("system");
        parameters["commands"] = new JsonArray("system.which");
        return parameters;
    }

    /// <summary>A syntactically valid device block; signature and nonce are not checked by this gateway.</summary>
    public static JsonObject Device(string id, string publicKey, string signature = "c2lnbmF0dXJl", string nonce = "00000000-0000-0000-0000-000000000000") => new()
    {
        ["id"] = id,
        ["publicKey"] = publicKey,
        ["signature"] = signature,
        ["signedAt"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        ["nonce"] = nonce,
    };
}
