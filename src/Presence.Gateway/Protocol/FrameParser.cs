using System.Text.Json;
using System.Text.Unicode;

namespace Presence.Gateway.Protocol;

/// <summary>
/// Reads one inbound WebSocket message (text or binary, UTF-8 JSON) and checks it against the
/// protocol's closed request-frame schema: <c>{type:"req", id, method, params?, traceparent?}</c>.
/// </summary>
internal static class FrameParser
{
    /// <summary>
    /// Real frames nest a handful of levels; the cap keeps a hostile frame from costing stack or
    /// memory. Deeper input counts as malformed, which is how the gateway treats unparseable text.
    /// </summary>
    public const int MaxDepth = 64;

    public const int MaxTraceparentLength = 128;

    private const string ErrorPrefix = "invalid request frame: ";

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    private static readonly string[] Known =
        ["type", "id", "method", "params", "traceparent"];

    private static readonly string[] Required = ["type", "id", "method"];

    public static InboundFrame Parse(ReadOnlySpan<byte> utf8)
    {
        if (!TryReadDocument(utf8, out var frame))
            return MalformedJsonFrame.Instance;

        var errors = new SchemaErrors();
        if (!SchemaChecks.ClosedObject(frame, "", Known, Required, errors))
            return new InvalidFrame(null, errors.Format(ErrorPrefix));

        SchemaChecks.Constant(frame, "", "type", "req", errors);
        var id = SchemaChecks.String(frame, "", "id", errors, minLength: 1);
        var method = SchemaChecks.String(frame, "", "method", errors, minLength: 1);
        SchemaChecks.String(frame, "", "traceparent", errors, maxLength: MaxTraceparentLength);

        if (errors.Any)
            return Invalid(frame, errors.Format(ErrorPrefix));
        return new RequestFrame(id!, method!, frame.TryGetProperty("params", out var parameters) ? parameters : null);
    }

    /// <summary>The gateway answers with whatever id the client sent, even an empty string or a number.</summary>
    private static InvalidFrame Invalid(JsonElement frame, string message)
    {
        if (!frame.TryGetProperty("id", out var id) || id.ValueKind == JsonValueKind.Null)
            return new InvalidFrame(null, message);
        return id.ValueKind == JsonValueKind.String
            ? new InvalidFrame(id.GetString(), message)
            : new InvalidFrame(null, message) { RawId = id };
    }

    /// <summary>
    /// Parses exactly one JSON value. A first pass rejects what <see cref="JsonElement.GetString"/>
    /// would later throw on (invalid UTF-8, lone surrogate escapes), so nothing downstream has to
    /// guard string reads. The document is built without pooled buffers: it needs no disposal and
    /// its elements (the request's params) stay valid for as long as they are referenced.
    /// </summary>
    private static bool TryReadDocument(ReadOnlySpan<byte> utf8, out JsonElement root)
    {
        root = default;
        try
        {
            if (!HasRepresentableText(utf8))
                return false;
            var reader = new Utf8JsonReader(utf8, ReaderOptions);
            root = JsonDocument.ParseValue(ref reader).RootElement;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool HasRepresentableText(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        if (!reader.Read())
            return false;
        do
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsValidText(ref reader))
                return false;
        }
        while (reader.Read());

        return true;
    }

    private static bool IsValidText(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
            return Utf8.IsValid(reader.ValueSpan);
        try
        {
            reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
