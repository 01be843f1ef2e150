using System.Text.Json;
using Presence.Actors.Domain;
using Presence.Gateway.Connections;
using Presence.Gateway.Protocol;

namespace Presence.Fuzz;

/// <summary>
/// The one fuzz target, shared by every driver (AFL++, libFuzzer, the in-process pass, replay).
/// An input is one WebSocket message, or several separated by NUL bytes: a raw NUL can never
/// be valid JSON, so splitting on it loses no valid frame, and a run of frames is what makes
/// successive <c>system-event</c> beacons merge into the same rows.
/// Each frame goes through everything the gateway does with untrusted bytes before an actor
/// sees them: <see cref="FrameParser.Parse"/>, then both params validators (whatever the method,
/// so either validator sees every shape the parser lets through), the error answer for a
/// rejection, and for an accepted beacon <see cref="Beacon.Resolve"/> and
/// <see cref="PresenceState.Upsert"/> into a state already at its 200-row bound, then the
/// snapshot JSON. Besides "no exception", the target checks the contracts callers rely on
/// and throws <see cref="FuzzInvariantException"/> when one breaks, so a driver reports it
/// as a crash.
/// </summary>
internal static class FuzzTarget
{
    public const byte FrameSeparator = 0;

    /// <summary>Frames past this are ignored: more only costs time per execution, not coverage.</summary>
    public const int MaxFrames = 8;

    /// <summary>The gateway's default <c>presence.max-entries</c>.</summary>
    public const int MaxEntries = 200;

    /// <summary>A fixed clock keeps every execution deterministic, as AFL++ and libFuzzer expect.</summary>
    private const long Now = 1_800_000_000_000;

    private const long TtlMs = 5 * 60 * 1000;

    /// <summary>Deep enough for any answer: an echoed id may nest up to the parser's own limit.</summary>
    private static readonly JsonReaderOptions CheckOptions = new() { MaxDepth = FrameParser.MaxDepth * 4 };

    /// <summary>
    /// Full, so that a beacon with a new key evicts, while one whose key is already there
    /// (host-0 … host-98, row-0 … row-99) merges. Immutable, so every execution starts from it.
    /// </summary>
    private static readonly PresenceState FullState = CreateFullState();

    /// <summary>Runs one input; true when some frame was a request, so the validators behind the parser saw it.</summary>
    public static bool Run(ReadOnlySpan<byte> input)
    {
        // The whole input is a message of its own too, so a NUL inside a frame still reaches the parser.
        if (input.Contains(FrameSeparator))
            Classify(input);

        var state = FullState;
        var frames = 0;
        var reachedValidators = false;
        var rest = input;
        while (frames++ < MaxFrames)
        {
            var end = rest.IndexOf(FrameSeparator);
            var frame = end < 0 ? rest : rest[..end];
            state = Handle(frame, state, Now + frames, ref reachedValidators);
            if (end < 0)
                break;
            rest = rest[(end + 1)..];
        }

        var snapshot = state.ToSnapshot();
        var rows = CheckJson(snapshot.Json.Span, "presence snapshot");
        Require(rows == state.Count && snapshot.Entries.Length == state.Count, "snapshot row count differs from the state's");
        return reachedValidators;
    }

    private static PresenceState Handle(ReadOnlySpan<byte> utf8, PresenceState state, long now, ref bool reachedValidators)
    {
        if (Classify(utf8) is not RequestFrame request)
            return state;
        reachedValidators = true;

        if (ConnectParamsValidator.TryValidate(request.Params, out var connect, out var connectError))
            Require(connect is not null && connectError is null, "connect accepted without params, or with an error");
        else
            CheckRejection(request.Id, connect, connectError, GatewayErrors.InvalidConnectParams);

        if (!SystemEventValidator.TryValidate(request.Params, out var beacon, out var beaconError))
        {
            CheckRejection(request.Id, beacon, beaconError, GatewayErrors.InvalidSystemEventParams);
            return state;
        }

        Require(beacon is not null && beaconError is null, "system-event accepted without a beacon, or with an error");
        Require(beacon!.Text.Trim().Length > 0, "an accepted beacon has blank text");
        return Merge(state, beacon, now);
    }

    private static InboundFrame Classify(ReadOnlySpan<byte> utf8)
    {
        var frame = FrameParser.Parse(utf8);
        switch (frame)
        {
            case RequestFrame request:
                Require(request.Id.Length > 0 && request.Method.Length > 0, "a request frame with an empty id or method");
                Require(request.Params is null || request.Params.Value.ValueKind != JsonValueKind.Undefined, "params present but undefined");
                break;
            case InvalidFrame invalid:
                Require(invalid.Message.StartsWith("invalid request frame: ", StringComparison.Ordinal), "an invalid frame without its message prefix");
                CheckJson(Bytes(ServerFrames.Error(invalid)), "invalid-frame answer");
                break;
            case MalformedJsonFrame:
                break;
            default:
                throw new FuzzInvariantException("the parser returned no frame");
        }

        return frame;
    }

    private static void CheckRejection<T>(string id, T? value, string? error, Func<string, GatewayError> toError)
        where T : class
    {
        Require(value is null && !string.IsNullOrEmpty(error), "params rejected with a value, or without an error");
        CheckJson(Bytes(ServerFrames.Error(id, toError(error!))), "rejection answer");
    }

    private static PresenceState Merge(PresenceState state, Beacon beacon, long now)
    {
        var (key, update) = beacon.Resolve();
        Require(key.Value.Length > 0 && key.Value == key.Value.Trim(), "a beacon resolved to a blank or untrimmed key");
        var next = state.Upsert(key, update, now);
        var row = next.Find(key);
        Require(row is not null && row.Ts == now, "the merged row is missing or was not stamped");
        Require(next.Count <= MaxEntries, "the state outgrew its bound");
        Require(next.Version == state.Version + 1, "a visible change did not bump the version");
        return next;
    }

    /// <summary>Reads the bytes as exactly one JSON value (validating UTF-8 on the way); returns its array length, if an array.</summary>
    private static int CheckJson(ReadOnlySpan<byte> utf8, string what)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, CheckOptions);
            var topLevelItems = 0;
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType is not (JsonTokenType.EndArray or JsonTokenType.EndObject or JsonTokenType.PropertyName))
                    topLevelItems++;
                // Skipping still reads (and so validates) every token of a nested value.
                if (reader.CurrentDepth >= 1 && reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    reader.Skip();
            }

            Require(reader.BytesConsumed == utf8.Length, what + " has trailing bytes");
            return topLevelItems;
        }
        catch (JsonException ex)
        {
            throw new FuzzInvariantException(what + " is not well-formed JSON: " + ex.Message, ex);
        }
    }

    private static byte[] Bytes(OutboundFrame frame)
    {
        Require(!frame.CarriesSeq && frame.Body.IsEmpty && frame.Tail.IsEmpty, "an answer that is not one whole buffer");
        return frame.Head.ToArray();
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new FuzzInvariantException(message);
    }

    private static PresenceState CreateFullState()
    {
        var self = SelfEntry.Create("fuzz-gateway", "192.0.2.1", "0.0.0", "linux", "Linux", "fuzz-self", Now - TtlMs);
        var state = PresenceState.Create(self, new PresenceLimits(TtlMs, MaxEntries));
        for (var i = 0; state.Count < MaxEntries; i++)
        {
            // Half node-style beacon rows (keyed by the host in their text), half connection rows with an owner.
            var ts = Now - TtlMs + i;
            if (i % 2 == 0)
            {
                var beacon = new Beacon
                {
                    Text = $"Node: host-{i / 2} (10.0.{i % 256}.{i / 256}) · app 1.0.{i} · last input {i}s ago · mode node · reason periodic",
                    Roles = ["node"],
                    Tags = i % 4 == 0 ? [Beacon.ClearLastInputTag] : [],
                };
                var (key, update) = beacon.Resolve();
                state = state.Upsert(key, update, ts);
            }
            else
            {
                var update = new PresenceUpdate { Host = $"ui-{i}", Mode = "ui", Roles = ["operator"], Scopes = ["operator.read"], InstanceId = $"row-{i / 2}" };
                state = state.Upsert(PresenceKey.From($"row-{i / 2}"), update, ts, new ConnectionId($"conn-{i}"));
            }
        }

        return state;
    }
}

/// <summary>A contract of the code under test broke without an exception of its own.</summary>
internal sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException()
    {
    }

    public FuzzInvariantException(string message)
        : base(message)
    {
    }

    public FuzzInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
