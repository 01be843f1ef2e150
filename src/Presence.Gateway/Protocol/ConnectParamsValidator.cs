using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;

namespace Presence.Gateway.Protocol;

/// <summary>
/// Step 3 of the handshake (§2.4): <c>connect</c> params must match the closed <c>ConnectParams</c>
/// schema. Role values and the protocol range are only type-checked here; later steps judge them.
/// </summary>
internal static class ConnectParamsValidator
{
    private const string ErrorPrefix = "invalid connect params: ";
    private const string ClientPath = "/client";
    private const string DevicePath = "/device";
    private const string AuthPath = "/auth";

    public const int MaxTimeZoneLength = 64;
    public const int MaxBuildIdLength = 96;

    public static readonly FrozenSet<string> ClientIds = FrozenSet.Create(
        StringComparer.Ordinal,
        "webchat-ui", "openclaw-control-ui", "openclaw-browser-copilot", "openclaw-tui", "webchat", "cli",
        "gateway-client", "openclaw-macos", "openclaw-linux", "openclaw-ios", "openclaw-watchos",
        "openclaw-android", "node-host", "openclaw-worker", "test", "fingerprint", "openclaw-probe");

    public static readonly FrozenSet<string> ClientModes = FrozenSet.Create(
        StringComparer.Ordinal, "webchat", "cli", "ui", "backend", "node", "worker", "probe", "test");

    // Property lists are in schema declaration order, the order errors are reported in.
    private static readonly string[] RootProperties =
        ["minProtocol", "maxProtocol", "client", "caps", "commands", "permissions", "pathEnv", "role", "scopes",
        "device", "auth", "locale", "userAgent", "computerUse", "workerRuns"];

    private static readonly string[] ClientProperties =
        ["id", "displayName", "version", "platform", "deviceFamily", "modelIdentifier", "mode", "instanceId",
        "timeZone", "buildId"];

    /// <summary>Every device property is required.</summary>
    private static readonly string[] DeviceProperties =
        ["id", "publicKey", "signature", "signedAt", "nonce"];

    private static readonly string[] AuthProperties =
        ["token", "bootstrapToken", "deviceToken", "password", "approvalRuntimeToken", "agentRuntimeIdentityToken"];

    private static readonly string[] RootRequired = ["minProtocol", "maxProtocol", "client"];
    private static readonly string[] ClientRequired = ["id", "version", "platform", "mode"];

    public static bool TryValidate(JsonElement? parameters, out ConnectParams? value, out string? error)
    {
        value = null;
        var errors = new SchemaErrors();
        var root = parameters ?? default;
        if (SchemaChecks.ClosedObject(root, "", RootProperties, RootRequired, errors))
            value = Read(root, errors);

        if (!errors.Any)
        {
            error = null;
            return true;
        }

        value = null;
        error = errors.Format(ErrorPrefix);
        return false;
    }

    /// <summary>
    /// Checks every property in schema declaration order (the order errors are reported in) and
    /// returns the params, or null when anything was recorded.
    /// </summary>
    private static ConnectParams? Read(JsonElement root, SchemaErrors errors)
    {
        var minProtocol = SchemaChecks.Integer(root, "", "minProtocol", 1, errors);
        var maxProtocol = SchemaChecks.Integer(root, "", "maxProtocol", 1, errors);
        var client = root.TryGetProperty("client", out var clientElement) ? ReadClient(clientElement, errors) : null;
        SchemaChecks.StringArray(root, "", "caps", errors, minItemLength: 1);
        SchemaChecks.StringArray(root, "", "commands", errors, minItemLength: 1);
        SchemaChecks.BooleanMap(root, "", "permissions", errors);
        SchemaChecks.String(root, "", "pathEnv", errors);
        var role = SchemaChecks.String(root, "", "role", errors, minLength: 1);
        var scopes = SchemaChecks.StringArray(root, "", "scopes", errors, minItemLength: 1);
        var device = root.TryGetProperty("device", out var deviceElement) ? ReadDevice(deviceElement, errors) : null;
        var auth = root.TryGetProperty("auth", out var authElement) ? ReadAuth(authElement, errors) : null;
        SchemaChecks.String(root, "", "locale", errors);
        SchemaChecks.String(root, "", "userAgent", errors);

        if (errors.Any || minProtocol is null || maxProtocol is null || client is null)
            return null;
        return new ConnectParams
        {
            MinProtocol = ToInt32(minProtocol.Value),
            MaxProtocol = ToInt32(maxProtocol.Value),
            Client = client,
            Role = role ?? "operator",
            Scopes = scopes,
            Device = device,
            Auth = auth,
        };
    }

    private static ClientInfo? ReadClient(JsonElement client, SchemaErrors errors)
    {
        if (!SchemaChecks.ClosedObject(client, ClientPath, ClientProperties, ClientRequired, errors))
            return null;

        var id = SchemaChecks.Enum(client, ClientPath, "id", ClientIds, errors);
        var displayName = SchemaChecks.String(client, ClientPath, "displayName", errors, minLength: 1);
        var version = SchemaChecks.String(client, ClientPath, "version", errors, minLength: 1);
        var platform = SchemaChecks.String(client, ClientPath, "platform", errors, minLength: 1);
        var deviceFamily = SchemaChecks.String(client, ClientPath, "deviceFamily", errors, minLength: 1);
        var modelIdentifier = SchemaChecks.String(client, ClientPath, "modelIdentifier", errors, minLength: 1);
        var mode = SchemaChecks.Enum(client, ClientPath, "mode", ClientModes, errors);
        var instanceId = SchemaChecks.String(client, ClientPath, "instanceId", errors, minLength: 1);
        var timeZone = SchemaChecks.String(client, ClientPath, "timeZone", errors, 1, MaxTimeZoneLength);
        var buildId = SchemaChecks.String(client, ClientPath, "buildId", errors, 1, MaxBuildIdLength);

        if (id is null || version is null || platform is null || mode is null)
            return null;
        return new ClientInfo
        {
            Id = id,
            Version = version,
            Platform = platform,
            Mode = mode,
            DisplayName = displayName,
            InstanceId = instanceId,
            DeviceFamily = deviceFamily,
            ModelIdentifier = modelIdentifier,
            TimeZone = timeZone,
            BuildId = buildId,
        };
    }

    private static DeviceParams? ReadDevice(JsonElement device, SchemaErrors errors)
    {
        if (!SchemaChecks.ClosedObject(device, DevicePath, DeviceProperties, DeviceProperties, errors))
            return null;

        var id = SchemaChecks.String(device, DevicePath, "id", errors, minLength: 1);
        var publicKey = SchemaChecks.String(device, DevicePath, "publicKey", errors, minLength: 1);
        var signature = SchemaChecks.String(device, DevicePath, "signature", errors, minLength: 1);
        var signedAt = SchemaChecks.Integer(device, DevicePath, "signedAt", 0, errors);
        var nonce = SchemaChecks.String(device, DevicePath, "nonce", errors, minLength: 1);

        return id is null || publicKey is null || signature is null || signedAt is null || nonce is null
            ? null
            : new DeviceParams(id, publicKey, signature, signedAt.Value, nonce);
    }

    private static AuthParams? ReadAuth(JsonElement auth, SchemaErrors errors)
    {
        if (!SchemaChecks.ClosedObject(auth, AuthPath, AuthProperties, [], errors))
            return null;

        var token = SchemaChecks.String(auth, AuthPath, "token", errors);
        var bootstrapToken = SchemaChecks.String(auth, AuthPath, "bootstrapToken", errors);
        var deviceToken = SchemaChecks.String(auth, AuthPath, "deviceToken", errors);
        var password = SchemaChecks.String(auth, AuthPath, "password", errors);
        SchemaChecks.String(auth, AuthPath, "approvalRuntimeToken", errors);
        SchemaChecks.String(auth, AuthPath, "agentRuntimeIdentityToken", errors);

        return new AuthParams(token, password) { DeviceToken = deviceToken, BootstrapToken = bootstrapToken };
    }

    /// <summary>Protocol numbers beyond <see cref="int"/> cannot match any version; saturating keeps them out of range.</summary>
    private static int ToInt32(long value) => (int)Math.Clamp(value, int.MinValue, int.MaxValue);
}
