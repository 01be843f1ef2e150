using System.Text.Json;
using Presence.Actors.Domain;

namespace Presence.Gateway.Protocol;

/// <summary>Validates <c>system-event</c> params (§6.7) and turns them into a presence <see cref="Beacon"/>.</summary>
internal static class SystemEventValidator
{
    public const string TextRequired = "text required";
    public const string WakeNotSupported = "wake is not supported for node presence events";

    /// <summary>
    /// Bounds on what a beacon may store (the OpenClaw schema has none): rows live in memory, are
    /// replicated, and go to every reader, so a client must not be able to make them arbitrarily large.
    /// </summary>
    public const int MaxTextLength = 4096;

    public const int MaxFieldLength = 256;

    private const string ErrorPrefix = "invalid system-event params: ";
    private const string NodePresencePrefix = "Node:";

    // Schema declaration order, the order errors are reported in.
    private static readonly string[] Known =
        ["text", "idempotencyKey", "sessionKey", "wake", "deviceId", "instanceId", "host", "ip", "mode", "version",
        "platform", "deviceFamily", "modelIdentifier", "lastInputSeconds", "reason", "roles", "scopes", "tags"];

    private static readonly string[] Required = ["text"];

    /// <summary>Absent or <c>null</c> params are read as <c>{}</c>, which is what makes them fail on the missing <c>text</c>.</summary>
    public static bool TryValidate(JsonElement? parameters, out Beacon? beacon, out string? error)
    {
        beacon = null;
        var wake = false;
        var errors = new SchemaErrors();
        if (parameters is not { ValueKind: not JsonValueKind.Null } root)
            errors.MissingProperty("", "text");
        else if (SchemaChecks.ClosedObject(root, "", Known, Required, errors))
            beacon = Read(root, errors, out wake);

        error = errors.Any ? errors.Format(ErrorPrefix) : Refuse(beacon!.Text, wake);
        if (error is null)
            return true;
        beacon = null;
        return false;
    }

    /// <summary>Checks every property in schema declaration order; null when anything was recorded.</summary>
    private static Beacon? Read(JsonElement root, SchemaErrors errors, out bool wake)
    {
        var text = SchemaChecks.String(root, "", "text", errors, maxLength: MaxTextLength);
        SchemaChecks.String(root, "", "idempotencyKey", errors, minLength: 1);
        SchemaChecks.String(root, "", "sessionKey", errors);
        wake = SchemaChecks.Boolean(root, "", "wake", errors) ?? false;
        var deviceId = SchemaChecks.String(root, "", "deviceId", errors, maxLength: MaxFieldLength);
        var instanceId = SchemaChecks.String(root, "", "instanceId", errors, maxLength: MaxFieldLength);
        var host = SchemaChecks.String(root, "", "host", errors, maxLength: MaxFieldLength);
        var ip = SchemaChecks.String(root, "", "ip", errors, maxLength: MaxFieldLength);
        var mode = SchemaChecks.String(root, "", "mode", errors, maxLength: MaxFieldLength);
        var version = SchemaChecks.String(root, "", "version", errors, maxLength: MaxFieldLength);
        var platform = SchemaChecks.String(root, "", "platform", errors, maxLength: MaxFieldLength);
        var deviceFamily = SchemaChecks.String(root, "", "deviceFamily", errors, maxLength: MaxFieldLength);
        var modelIdentifier = SchemaChecks.String(root, "", "modelIdentifier", errors, maxLength: MaxFieldLength);
        var lastInputSeconds = SchemaChecks.Number(root, "", "lastInputSeconds", errors);
        var reason = SchemaChecks.String(root, "", "reason", errors, maxLength: MaxFieldLength);
        var roles = SchemaChecks.StringArray(root, "", "roles", errors, maxItemLength: MaxFieldLength);
        var scopes = SchemaChecks.StringArray(root, "", "scopes", errors, maxItemLength: MaxFieldLength);
        var tags = SchemaChecks.StringArray(root, "", "tags", errors, maxItemLength: MaxFieldLength);

        if (errors.Any || text is null)
            return null;
        return new Beacon
        {
            Text = text.Trim(),
            DeviceId = deviceId,
            InstanceId = instanceId,
            Host = host,
            Ip = ip,
            Mode = mode,
            Version = version,
            Platform = platform,
            DeviceFamily = deviceFamily,
            ModelIdentifier = modelIdentifier,
            Reason = reason,
            LastInputSeconds = lastInputSeconds is { } seconds ? WholeSeconds(seconds) : null,
            Roles = roles,
            Scopes = scopes,
            Tags = tags,
        };
    }

    /// <summary>The handler's own checks after the schema passed; these messages carry no prefix.</summary>
    private static string? Refuse(string trimmedText, bool wake) =>
        trimmedText.Length == 0 ? TextRequired
        : wake && trimmedText.StartsWith(NodePresencePrefix, StringComparison.Ordinal) ? WakeNotSupported
        : null;

    /// <summary>
    /// The wire accepts any number, but rows must only ever carry integers (Swift clients decode
    /// <c>lastInputSeconds</c> as <c>Int</c>): truncate toward zero, clamp to [0, long.MaxValue].
    /// </summary>
    private static long WholeSeconds(double seconds) =>
        seconds <= 0 ? 0
        : seconds >= long.MaxValue ? long.MaxValue
        : (long)Math.Truncate(seconds);
}
