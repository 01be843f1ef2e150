using System.Text;
using System.Text.Json.Nodes;

namespace Presence.Gateway.Tests.Protocol;

/// <summary>One client frame from a capture and the real gateway's response to it, if any.</summary>
internal sealed record Exchange(string Source, JsonObject Request, JsonObject? Response)
{
    public string? Method => Request["method"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
        ? Request["method"]!.GetValue<string>()
        : null;

    public JsonObject? Error => Response?["error"] as JsonObject;

    public string? ErrorMessage => Error?["message"]?.GetValue<string>();

    public byte[] RequestBytes => Encoding.UTF8.GetBytes(Request.ToJsonString());
}

/// <summary>
/// The live captures in <c>shared/spec/captures</c>, found beside the repository root (the folder
/// holding <c>Presence.Actors.sln</c>), as CI checks the repository out next to <c>shared/</c>.
/// </summary>
internal static class Captures
{
    private static readonly string[] ClientDirections = ["out", "client->gw", "client->server"];

    public static string Root { get; } = Locate();

    public static JsonNode Load(string relativePath) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, relativePath)))!;

    public static IReadOnlyList<string> Files { get; } = Directory
        .EnumerateFiles(Root, "*.json", SearchOption.AllDirectories)
        .Select(path => Path.GetRelativePath(Root, path).Replace('\\', '/'))
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>Every client frame that is a JSON object (raw text is left out), paired with its response.</summary>
    public static IReadOnlyList<Exchange> Exchanges { get; } = Files.SelectMany(ExchangesIn).ToArray();

    /// <summary>Raw (non-JSON or binary-looking) client messages, as sent.</summary>
    public static IEnumerable<(string Source, string Raw)> RawMessages() =>
        Files.SelectMany(file => FrameLogs(Load(file)).SelectMany(log => log
            .Where(entry => IsClient(entry, IsRecordedByServer(log)) && entry["raw"] is JsonValue)
            .Select(entry => (file, entry["raw"]!.GetValue<string>()))));

    /// <summary>Pre-hello frames the gateway closed on with 1008 "invalid request frame" and no response.</summary>
    public static IEnumerable<Exchange> ClosedAsInvalidRequestFrame() =>
        Files.Where(file => file.StartsWith("errors/handshake-", StringComparison.Ordinal))
            .Where(file => Load(file)["close"]?["reason"]?.GetValue<string>() == "invalid request frame")
            .SelectMany(ExchangesIn)
            .Where(exchange => exchange.Response is null);

    private static IEnumerable<Exchange> ExchangesIn(string file)
    {
        foreach (var log in FrameLogs(Load(file)))
        {
            var fromServer = IsRecordedByServer(log);
            for (var i = 0; i < log.Count; i++)
            {
                if (!IsClient(log[i], fromServer) || log[i]["frame"] is not JsonObject request)
                    continue;
                var replyId = request["id"] is { } id ? id : JsonValue.Create("invalid");
                var response = log.Skip(i + 1)
                    .Where(entry => !IsClient(entry, fromServer))
                    .Select(entry => entry["frame"] as JsonObject)
                    .FirstOrDefault(frame => frame?["type"]?.GetValue<string>() == "res" && JsonNode.DeepEquals(frame["id"], replyId));
                yield return new Exchange(file, request, response);
            }
        }
    }

    /// <summary>Mock-server captures (08) log "out" for what the server sent; spot them by the challenge going out.</summary>
    private static bool IsRecordedByServer(List<JsonNode> log) => log.Any(entry =>
        entry["dir"]?.GetValue<string>() == "out" && entry["frame"]?["event"]?.GetValue<string>() == "connect.challenge");

    private static bool IsClient(JsonNode entry, bool recordedByServer)
    {
        var direction = entry["dir"]?.GetValue<string>();
        return recordedByServer ? direction == "in" : ClientDirections.Contains(direction);
    }

    /// <summary>Every array of <c>{dir, frame|raw}</c> entries, wherever it sits in the capture.</summary>
    private static IEnumerable<List<JsonNode>> FrameLogs(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray array when array.Count > 0 && array.All(item => item is JsonObject entry && entry.ContainsKey("dir")):
                yield return array.Select(item => item!).ToList();
                break;
            case JsonArray array:
                foreach (var log in array.SelectMany(FrameLogs))
                    yield return log;
                break;
            case JsonObject obj:
                foreach (var log in obj.SelectMany(property => FrameLogs(property.Value)))
                    yield return log;
                break;
        }
    }

    private static string Locate()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Presence.Actors.sln")))
                return Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "spec", "captures"));
        }

        throw new DirectoryNotFoundException("Presence.Actors.sln not found above " + AppContext.BaseDirectory);
    }
}
