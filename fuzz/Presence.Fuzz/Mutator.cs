using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Gateway.Transport;

namespace Presence.Fuzz;

/// <summary>
/// Coverage-blind mutations for the in-process pass: byte-level edits as AFL's havoc stage makes
/// them, plus JSON-aware ones (replace, drop or add a member, nest deeply, splice frames) that keep
/// a mutant parseable often enough to reach the validators and the merge behind the parser.
/// </summary>
internal sealed class Mutator(Random random)
{
    /// <summary>Mutants stay within the size the gateway admits before the handshake, give or take.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Fragments that matter to the code under test: its property names, enum values, the beacon grammar, edge numbers and text.</summary>
    internal static readonly string[] Tokens =
    [
        "\"type\"", "\"req\"", "\"id\"", "\"method\"", "\"params\"", "\"traceparent\"", "\"connect\"", "\"system-event\"",
        "\"minProtocol\"", "\"maxProtocol\"", "\"client\"", "\"caps\"", "\"commands\"", "\"permissions\"", "\"role\"",
        "\"scopes\"", "\"device\"", "\"auth\"", "\"signedAt\"", "\"nonce\"", "\"token\"", "\"mode\"", "\"version\"",
        "\"platform\"", "\"instanceId\"", "\"deviceId\"", "\"host\"", "\"ip\"", "\"text\"", "\"wake\"", "\"tags\"",
        "\"roles\"", "\"lastInputSeconds\"", "\"reason\"", "\"timeZone\"", "\"buildId\"", "\"webchat-ui\"", "\"node\"",
        "\"system-presence-clear-last-input\"", "Node: ", " · app ", " · last input ", "s ago", " · mode ", " · reason ",
        "·", "(", ")", "host-1", "row-1", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\\"", "\\\\", "\\/",
        "\u00e9", "\u0301", "\ud83d\ude00", "\u200d", "\ufeff", " ", "\t", "\r\n", "~1", "~0", "/",
        "0", "-0", "1e400", "-1e400", "1.5", "4.0", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "1e-400", "99999999999999999999999999999", "null", "true", "false", "[]", "{}", ",", ":",
    ];

    /// <summary>JSON punctuation, and bytes that start, continue or can never be in UTF-8 (0xC0, 0xFF; 0xED starts surrogates).</summary>
    private static readonly byte[] SpecialBytes = [(byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'0', 0x80, 0xBF, 0xC0, 0xED, 0xF4, 0xFF, 0x00];

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 1024 };
    private static readonly byte[][] TokenBytes = Tokens.Select(Encoding.UTF8.GetBytes).ToArray();

    /// <summary>One to four stacked mutations of <paramref name="input"/>; <paramref name="other"/> feeds the splices.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        var data = input;
        var rounds = 1 + random.Next(4);
        for (var i = 0; i < rounds; i++)
            data = MutateOnce(data, other);
        return data.Length <= MaxLength ? data : data[..MaxLength];
    }

    private byte[] MutateOnce(byte[] data, byte[] other) => random.Next(12) switch
    {
        0 => FlipBit(data),
        1 => SetByte(data),
        2 => Insert(data, TokenBytes[random.Next(TokenBytes.Length)]),
        3 => Insert(data, Slice(other)),
        4 => Delete(data),
        5 => Insert(data, Slice(data)),
        6 => random.Next(2) == 0 ? [.. data, FuzzTarget.FrameSeparator, .. other] : [.. other, FuzzTarget.FrameSeparator, .. data],
        _ => MutateJson(data) ?? Insert(data, TokenBytes[random.Next(TokenBytes.Length)]),
    };

    /// <summary>
    /// One to four stacked mutations for <see cref="FrameFuzzTarget"/>: the byte edits, plus whole
    /// frames of any shape inserted anywhere or appended (where they line up with the frames before),
    /// and a new control byte (which picks the bound and how the bytes arrive).
    /// </summary>
    public byte[] MutateFrames(byte[] input, byte[] other)
    {
        var data = input;
        var rounds = 1 + random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            data = random.Next(9) switch
            {
                0 => FlipBit(data),
                1 => SetByte(data),
                2 => Insert(data, Slice(other)),
                3 => Delete(data),
                4 => Insert(data, Slice(data)),
                5 => Insert(data, RandomFrame()),
                6 or 7 => [.. data, .. RandomFrame()],
                _ => data.Length == 0 ? [(byte)random.Next(256)] : [(byte)random.Next(256), .. data.AsSpan(1)],
            };
        }
        return data.Length <= MaxLength ? data : data[..MaxLength];
    }

    /// <summary>A frame with flags, opcode, length form and payload drawn from the cases the decoder tells apart.</summary>
    private byte[] RandomFrame()
    {
        var opcode = (Opcode)(random.Next(4) == 0 ? random.Next(16) : new[] { 0, 1, 2, 8, 9, 10 }[random.Next(6)]);
        var length = random.Next(6) switch
        {
            0 => 0,
            1 => random.Next(1, 126),
            2 => 125 + random.Next(3),
            3 => random.Next(126, 400),
            4 => random.Next(2) == 0 ? 299 + random.Next(3) : 65535 + random.Next(3),
            _ => random.Next(1, 20),
        };
        var payload = new byte[length];
        random.NextBytes(payload);
        if (opcode == Opcode.Close && length >= 2)
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)(random.Next(3) == 0 ? random.Next(65536) : random.Next(995, 1020)));
        else if (random.Next(2) == 0)
            Encoding.UTF8.GetBytes(new string('a', length)).CopyTo(payload, 0);
        return SeedCorpus.ClientFrame(opcode, payload,
            fin: random.Next(3) != 0,
            mask: (uint)random.Next(),
            lengthForm: random.Next(8) == 0 ? (random.Next(2) == 0 ? 126 : 127) : 0,
            reserved: random.Next(16) == 0 ? random.Next(1, 8) : 0,
            masked: random.Next(16) != 0);
    }

    private byte[] FlipBit(byte[] data)
    {
        if (data.Length == 0)
            return [(byte)random.Next(256)];
        var copy = (byte[])data.Clone();
        copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private byte[] SetByte(byte[] data)
    {
        if (data.Length == 0)
            return [(byte)random.Next(256)];
        var copy = (byte[])data.Clone();
        // Half the time a byte that is special to JSON or UTF-8 rather than any byte.
        copy[random.Next(copy.Length)] = random.Next(2) == 0 ? (byte)random.Next(256) : SpecialBytes[random.Next(SpecialBytes.Length)];
        return copy;
    }

    private byte[] Insert(byte[] data, ReadOnlySpan<byte> piece)
    {
        var at = random.Next(data.Length + 1);
        return [.. data.AsSpan(0, at), .. piece, .. data.AsSpan(at)];
    }

    private byte[] Delete(byte[] data)
    {
        if (data.Length == 0)
            return data;
        var at = random.Next(data.Length);
        var length = 1 + random.Next(Math.Min(32, data.Length - at));
        return [.. data.AsSpan(0, at), .. data.AsSpan(at + length)];
    }

    private byte[] Slice(byte[] data)
    {
        if (data.Length == 0)
            return data;
        var at = random.Next(data.Length);
        return data[at..(at + 1 + random.Next(Math.Min(64, data.Length - at)))];
    }

    /// <summary>Edits the JSON tree of the first frame; null when it does not parse (the byte mutations take over).</summary>
    private byte[]? MutateJson(byte[] data)
    {
        var end = Array.IndexOf(data, FuzzTarget.FrameSeparator);
        var first = end < 0 ? data : data[..end];
        byte[] text;
        try
        {
            var root = JsonNode.Parse(first, documentOptions: Lenient);
            if (root is null)
                return null;
            var containers = new List<JsonNode>();
            Collect(root, containers);
            var target = containers.Count == 0 ? root : containers[random.Next(containers.Count)];
            var replaced = Edit(target) ?? root;
            text = Encoding.UTF8.GetBytes(replaced.ToJsonString(Relaxed));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, JSON whose strings are not text (invalid UTF-8, lone surrogate escapes) or with a
            // duplicate member: JsonNode finds those lazily, when the tree is first walked.
            return null;
        }

        return end < 0 ? text : [.. text, .. data.AsSpan(end)];
    }

    /// <summary>Edits <paramref name="target"/> in place; returns a new root only when the root itself was replaced.</summary>
    private JsonNode? Edit(JsonNode target)
    {
        switch (target)
        {
            case JsonObject obj when obj.Count > 0 && random.Next(3) == 0:
                obj.Remove(obj.ElementAt(random.Next(obj.Count)).Key);
                return null;
            case JsonObject obj when random.Next(2) == 0:
                obj[random.Next(3) == 0 ? RandomString() : PropertyName()] = RandomValue(0);
                return null;
            case JsonObject obj when obj.Count > 0:
                obj[obj.ElementAt(random.Next(obj.Count)).Key] = RandomValue(0);
                return null;
            case JsonArray array when array.Count > 0 && random.Next(2) == 0:
                array[random.Next(array.Count)] = RandomValue(0);
                return null;
            case JsonArray array:
                array.Add(RandomValue(0));
                return null;
            default:
                return RandomValue(0);
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> containers)
    {
        if (node is JsonObject obj)
        {
            containers.Add(obj);
            foreach (var (_, value) in obj)
            {
                if (value is not null)
                    Collect(value, containers);
            }
        }
        else if (node is JsonArray array)
        {
            containers.Add(array);
            foreach (var item in array)
            {
                if (item is not null)
                    Collect(item, containers);
            }
        }
    }

    private string PropertyName()
    {
        var token = Tokens[random.Next(Tokens.Length)];
        return token.Length > 2 && token[0] == '"' ? token[1..^1] : token;
    }

    private JsonNode? RandomValue(int depth) => random.Next(depth > 3 ? 6 : 9) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(RandomNumber()),
        3 or 4 => JsonValue.Create(RandomString()),
        5 => JsonValue.Create(PropertyName()),
        6 => new JsonArray(Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(depth + 1)).ToArray()),
        7 => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(_ => KeyValuePair.Create(PropertyName(), RandomValue(depth + 1)))),
        _ => Nest(random.Next(1, 200)),
    };

    /// <summary>Arrays nested around the parser's depth limit, on either side of it.</summary>
    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 1; i < depth; i++)
            node = new JsonArray(node);
        return node;
    }

    private double RandomNumber() => random.Next(6) switch
    {
        0 => random.Next(-3, 300),
        1 => random.NextDouble() * 1e6,
        2 => long.MaxValue,
        3 => -random.NextDouble() * 1e18,
        4 => double.MaxValue,
        _ => double.Epsilon,
    };

    /// <summary>Strings of tokens, runs of spaces and random scalar values, from empty to 4 KiB.</summary>
    private string RandomString()
    {
        var builder = new StringBuilder();
        var parts = random.Next(4) == 0 ? random.Next(200) : random.Next(4);
        for (var i = 0; i < parts; i++)
        {
            // No lone surrogates here: the writer cannot encode them; the escaped tokens and byte edits bring them in.
            switch (random.Next(3))
            {
                case 0:
                    builder.Append(Tokens[random.Next(Tokens.Length)]);
                    break;
                case 1:
                    builder.Append(' ', random.Next(1, 20));
                    break;
                default:
                    builder.Append(char.ConvertFromUtf32(random.Next(4) == 0 ? random.Next(0x10000, 0x110000) : random.Next(0, 0xD800)));
                    break;
            }
        }

        var text = builder.ToString();
        return text.Length > 4096 ? text[..4096] : text;
    }
}
