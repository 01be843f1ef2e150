using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Gateway.Transport;

namespace Presence.Fuzz;

/// <summary>
/// The seed corpus: every client-to-gateway message recorded in <c>shared/spec/captures</c>
/// (entries <c>{dir, frame}</c> or <c>{dir, raw}</c> wherever they sit in a capture), plus a
/// few runs of beacons joined by <see cref="FuzzTarget.FrameSeparator"/> so that the fuzzers
/// start out with merges. Built at run time rather than committed, so it follows the captures.
/// </summary>
internal static class SeedCorpus
{
    /// <summary>How the captures label client-to-gateway messages (the live probes use "out").</summary>
    private static readonly string[] ClientDirections = ["out", "client->gw", "client->server"];

    /// <summary>Non-ASCII (the "·" of beacon texts) stays raw UTF-8, as clients send it.</summary>
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The captures folder beside the checkout (the folder holding the solution), as CI lays it out.</summary>
    public static string DefaultCapturesRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Presence.Actors.sln")))
                    return Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "spec", "captures"));
            }
        }

        throw new DirectoryNotFoundException("Presence.Actors.sln not found above the working or the program's directory");
    }

    /// <summary>Distinct seeds in a stable order, so that a seeded in-process run is reproducible.</summary>
    public static IReadOnlyList<byte[]> Load(string capturesRoot)
    {
        var messages = Directory.EnumerateFiles(capturesRoot, "*.json", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .SelectMany(path => ClientMessages(JsonNode.Parse(File.ReadAllText(path))))
            .ToList();
        if (messages.Count == 0)
            throw new InvalidDataException("no client messages found under " + capturesRoot);

        var beacons = messages.Where(IsSystemEvent).ToList();
        for (var i = 0; i + 2 < beacons.Count; i += 3)
            messages.Add([.. beacons[i], FuzzTarget.FrameSeparator, .. beacons[i + 1], FuzzTarget.FrameSeparator, .. beacons[i + 2]]);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        return messages.Where(message => seen.Add(Name(message))).ToList();
    }

    /// <summary>
    /// Seeds for <see cref="FrameFuzzTarget"/>: each captured message as a masked text frame behind a
    /// control byte, some behind an upgrade head, and by hand the shapes that matter to the decoder:
    /// fragments with control frames between them, every length form, closes, refused and plain heads.
    /// </summary>
    public static IReadOnlyList<byte[]> LoadFrames(string capturesRoot)
    {
        var messages = Load(capturesRoot);
        const string Head = "GET / HTTP/1.1\r\nHost: gw.example:18789\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://gw.example:18789\r\n\r\n";
        var head = Encoding.ASCII.GetBytes(Head);
        var seeds = new List<byte[]>();
        for (var i = 0; i < messages.Count; i++)
        {
            var frame = ClientFrame(Opcode.Text, messages[i]);
            var control = (byte)(i * 37);
            seeds.Add(i % 4 == 0 ? [control, .. head, .. frame] : [control, .. frame]);
        }

        var connect = messages.FirstOrDefault(m => m.AsSpan().IndexOf("\"connect\""u8) >= 0) ?? messages[0];
        var third = connect.Length / 3;
        byte[][] handmade =
        [
            [.. ClientFrame(Opcode.Text, connect.AsSpan(0, third), fin: false), .. ClientFrame(Opcode.Ping, "p"u8), .. ClientFrame(Opcode.Continuation, connect.AsSpan(third, third), fin: false),
                .. ClientFrame(Opcode.Pong, []), .. ClientFrame(Opcode.Continuation, connect.AsSpan(2 * third)), .. ClientFrame(Opcode.Close, CloseFrame(1000, "bye"))],
            [.. ClientFrame(Opcode.Binary, connect, lengthForm: 127), .. ClientFrame(Opcode.Text, "{}"u8, lengthForm: 126), .. ClientFrame(Opcode.Close, [])],
            [.. ClientFrame(Opcode.Text, new byte[300]), .. ClientFrame(Opcode.Ping, new byte[125])],
            [.. ClientFrame(Opcode.Text, [0xE2, 0x82], fin: false), .. ClientFrame(Opcode.Continuation, [0xAC])],
            [.. ClientFrame(Opcode.Close, CloseFrame(4000, "caf\u00e9"))],
            [.. head, .. ClientFrame(Opcode.Ping, []), .. ClientFrame(Opcode.Text, connect)],
            [.. Encoding.ASCII.GetBytes(Head.Replace("Version: 13", "Version: 8", StringComparison.Ordinal))],
            [.. "GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n"u8],
        ];
        seeds.AddRange(handmade.SelectMany(seed => new[] { (byte[])[0x00, .. seed], [0x83, .. seed] }));
        return seeds;
    }

    /// <summary>
    /// A client frame: masked, FIN as given, the length in the shortest form unless
    /// <paramref name="lengthForm"/> (126 or 127) asks for a longer one, which the rules allow a receiver to take.
    /// </summary>
    public static byte[] ClientFrame(Opcode opcode, ReadOnlySpan<byte> payload, bool fin = true, uint mask = 0x5A17C3E9, int lengthForm = 0, int reserved = 0, bool masked = true)
    {
        var form = lengthForm != 0 ? lengthForm : payload.Length <= 125 ? 0 : payload.Length <= ushort.MaxValue ? 126 : 127;
        var header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | (reserved & 7) << 4 | ((int)opcode & 0x0F));
        header[1] = (byte)((masked ? 0x80 : 0) | (form == 0 ? payload.Length : form));
        var at = form switch { 0 => 2, 126 => 4, _ => 10 };
        if (form == 126)
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)payload.Length);
        else if (form == 127)
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), (ulong)payload.Length);
        var body = payload.ToArray();
        if (!masked)
            return [.. header.AsSpan(0, at), .. body];
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at), mask);
        WebSocketFrames.Unmask(body, mask, 0);
        return [.. header.AsSpan(0, at + 4), .. body];
    }

    /// <summary>A close frame's payload: the code, then the reason.</summary>
    public static byte[] CloseFrame(int code, string reason) => [(byte)(code >> 8), (byte)code, .. Encoding.UTF8.GetBytes(reason)];

    /// <summary>Writes each seed as its own file, named by content, for afl-fuzz <c>-i</c> or libFuzzer.</summary>
    public static int Write(IReadOnlyList<byte[]> seeds, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (var seed in seeds)
            File.WriteAllBytes(Path.Combine(outputDirectory, Name(seed)), seed);
        return seeds.Count;
    }

    private static string Name(byte[] message) => Convert.ToHexStringLower(SHA256.HashData(message))[..16];

    private static bool IsSystemEvent(byte[] message) => message.AsSpan().IndexOf("\"system-event\""u8) >= 0;

    private static IEnumerable<byte[]> ClientMessages(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject entry when entry["dir"] is JsonValue dir && ClientDirections.Contains(dir.ToString(), StringComparer.Ordinal):
                if (entry["frame"] is { } frame)
                    yield return Encoding.UTF8.GetBytes(frame.ToJsonString(Compact));
                else if (entry["raw"] is JsonValue raw && raw.GetValueKind() == JsonValueKind.String)
                    yield return Encoding.UTF8.GetBytes(raw.GetValue<string>());
                break;
            case JsonObject obj:
                foreach (var message in obj.SelectMany(property => ClientMessages(property.Value)))
                    yield return message;
                break;
            case JsonArray array:
                foreach (var message in array.SelectMany(ClientMessages))
                    yield return message;
                break;
        }
    }
}
