using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Presence.Actors.Domain;

namespace Presence.Actors.Cluster;

/// <summary>
/// What one node writes to its DData key, as pure code: presence key → the row's compact
/// JSON (the same bytes the wire carries), the self row under <see cref="SelfKey"/>. Each row
/// is held to <c>max-row-bytes</c> and the whole key to <c>max-node-bytes</c>, so that the key
/// always fits in one Akka.Remote frame whatever clients send.
/// </summary>
public static class ReplicatedRows
{
    /// <summary>A presence key is never empty (it is trimmed and non-blank), so the empty string is free for the self row.</summary>
    public const string SelfKey = "";

    /// <summary>
    /// Serialised bytes an entry costs beyond its key and JSON in an <c>LWWDictionary</c>: the
    /// observed-remove dot and the register's node address and timestamp. Measured with Akka's
    /// own serializer (see ReplicatedRowsSizeSpecs), rounded up.
    /// </summary>
    public const int EntryOverheadBytes = 160;

    // Fields other than text are clipped to this many characters when a row is too big.
    private const int ClippedFieldChars = 64;
    private const int ClippedListItems = 4;

    /// <summary>
    /// The rows to replicate, each already through <see cref="EncodeRow"/> (null: it did not fit):
    /// the self row always, then the newest rows while the key stays within <paramref name="maxNodeBytes"/>.
    /// </summary>
    public static Encoded Encode(string selfJson, IEnumerable<(string Key, long Ts, string? Json)> rows, int maxNodeBytes)
    {
        var encoded = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        encoded.Add(SelfKey, selfJson);
        var bytes = Cost(SelfKey, selfJson);
        var left = 0;
        foreach (var (key, _, json) in rows.OrderByDescending(row => row.Ts))
        {
            if (json is null || bytes + Cost(key, json) > maxNodeBytes)
            {
                left++;
                continue;
            }
            encoded.Add(key, json);
            bytes += Cost(key, json);
        }
        return new Encoded(encoded.ToImmutable(), bytes, left);
    }

    /// <summary>
    /// One row's JSON, at most <paramref name="maxRowBytes"/> together with its key: shortened when needed
    /// (other fields to 64 characters, then the text to what is left); null when even that does not fit.
    /// </summary>
    /// <param name="key">The row's key in the node's dictionary.</param>
    /// <param name="entry">The row.</param>
    /// <param name="maxRowBytes">Most bytes for key and JSON together.</param>
    /// <param name="json">The row's JSON when already serialised (a stored row caches it).</param>
    public static string? EncodeRow(string key, PresenceEntry entry, int maxRowBytes, byte[]? json = null)
    {
        var room = maxRowBytes - Encoding.UTF8.GetByteCount(key);
        json ??= PresenceJson.Serialize(entry);
        if (json.Length <= room)
            return Encoding.UTF8.GetString(json);

        var clipped = entry with
        {
            InstanceId = Clip(entry.InstanceId),
            Host = Clip(entry.Host),
            Ip = Clip(entry.Ip),
            Version = Clip(entry.Version),
            Platform = Clip(entry.Platform),
            DeviceFamily = Clip(entry.DeviceFamily),
            ModelIdentifier = Clip(entry.ModelIdentifier),
            Mode = Clip(entry.Mode),
            Reason = Clip(entry.Reason),
            DeviceId = Clip(entry.DeviceId),
            Roles = ClipList(entry.Roles),
            Scopes = ClipList(entry.Scopes),
        };
        // Text is cut to a length that fits, shrinking while escapes make it longer in JSON than in characters.
        var textChars = Math.Min(entry.Text.Length, Math.Max(0, room - PresenceJson.Serialize(clipped with { Text = "" }).Length));
        while (true)
        {
            json = PresenceJson.Serialize(clipped with { Text = ClipText(entry.Text, textChars) });
            if (json.Length <= room)
                return Encoding.UTF8.GetString(json);
            if (textChars == 0)
                return null;
            textChars = textChars * 3 / 4;
        }
    }

    /// <summary>Estimated serialised cost of one entry in the node's key.</summary>
    public static int Cost(string key, string json) => Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(json) + EntryOverheadBytes;

    /// <summary>Reads a row written by <see cref="Encode"/>.</summary>
    /// <exception cref="JsonException">Not a presence row.</exception>
    public static PresenceEntry Decode(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        Expect(ref reader, JsonTokenType.StartObject);
        var entry = new PresenceEntry();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            entry = name switch
            {
                "instanceId" => entry with { InstanceId = reader.GetString() },
                "host" => entry with { Host = reader.GetString() },
                "ip" => entry with { Ip = reader.GetString() },
                "version" => entry with { Version = reader.GetString() },
                "platform" => entry with { Platform = reader.GetString() },
                "deviceFamily" => entry with { DeviceFamily = reader.GetString() },
                "modelIdentifier" => entry with { ModelIdentifier = reader.GetString() },
                "mode" => entry with { Mode = reader.GetString() },
                "lastInputSeconds" => entry with { LastInputSeconds = reader.GetInt64() },
                "reason" => entry with { Reason = reader.GetString() },
                "deviceId" => entry with { DeviceId = reader.GetString() },
                "roles" => entry with { Roles = ReadStrings(ref reader) },
                "scopes" => entry with { Scopes = ReadStrings(ref reader) },
                "text" => entry with { Text = reader.GetString() ?? "" },
                "ts" => entry with { Ts = reader.GetInt64() },
                _ => throw new JsonException($"unknown presence field {name}"),
            };
        }
        return reader.TokenType == JsonTokenType.EndObject ? entry : throw new JsonException("a presence row must be one JSON object");
    }

    private static ImmutableArray<string> ReadStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected an array of strings");
        var items = ImmutableArray.CreateBuilder<string>();
        while (reader.Read() && reader.TokenType == JsonTokenType.String)
            items.Add(reader.GetString()!);
        return items.ToImmutable();
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token)
    {
        if (!reader.Read() || reader.TokenType != token)
            throw new JsonException($"expected {token}");
    }

    private static string? Clip(string? value) => value is null ? null : ClipText(value, ClippedFieldChars);

    private static ImmutableArray<string> ClipList(ImmutableArray<string> values) =>
        values.IsDefaultOrEmpty ? values : values.Take(ClippedListItems).Select(value => ClipText(value, ClippedFieldChars)).ToImmutableArray();

    /// <summary>The first <paramref name="chars"/> characters, never splitting a surrogate pair.</summary>
    private static string ClipText(string value, int chars)
    {
        if (value.Length <= chars)
            return value;
        if (chars > 0 && char.IsHighSurrogate(value[chars - 1]))
            chars--;
        return value[..chars];
    }

    /// <summary>The rows to write, their estimated serialised size, and how many rows did not fit.</summary>
    public sealed record Encoded(ImmutableDictionary<string, string> Rows, int Bytes, int Left);
}
