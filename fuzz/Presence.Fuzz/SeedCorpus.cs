using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

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

    /// <summary>Writes each seed as its own file, named by content, for afl-fuzz <c>-i</c> or libFuzzer.</summary>
    public static int Write(string capturesRoot, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var seeds = Load(capturesRoot);
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
