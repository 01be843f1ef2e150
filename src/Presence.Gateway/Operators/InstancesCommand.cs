using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Presence.Gateway.Tls;

namespace Presence.Gateway.Operators;

/// <summary>
/// <c>instances [--url ws://…] [--token …] [--password …] [--watch] [--json]</c>: lists a gateway's presence
/// from the terminal over the gateway protocol, as the CLI identity (mode <c>cli</c>, untracked by default,
/// so the listing does not list itself).
/// </summary>
internal static class InstancesCommand
{
    public const string Verb = "instances";

    public const string Usage = """
        Usage: Presence.Gateway instances [--url ws://127.0.0.1:18789] [--token <secret>] [--password <secret>] [--tls-fingerprint <sha256>] [--watch] [--json]
          --url       gateway to ask (default ws://127.0.0.1:18789, or PRESENCE_GATEWAY_URL)
          --tls-fingerprint  with a wss:// URL: accept exactly the certificate with this SHA-256 fingerprint
                      (AB:CD:… as the gateway prints it, or 64 hex digits), e.g. a --tls-auto gateway's
                      (default PRESENCE_GATEWAY_TLS_FINGERPRINT)
          --token     shared secret (default PRESENCE_GATEWAY_TOKEN); --password likewise (PRESENCE_GATEWAY_PASSWORD)
          --watch     keep the listing up to date until Ctrl+C
          --json      print the presence list as JSON (one list per line with --watch)
        """;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>The verb as run by <c>Program</c>: console output, Ctrl+C stops a watch.</summary>
    public static async Task<int> RunFromConsoleAsync(IReadOnlyList<string> args)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <param name="args">The options after the verb.</param>
    /// <param name="output">Where the listing goes.</param>
    /// <param name="error">Where problems and reconnects are reported.</param>
    /// <param name="interactive">A terminal: the watch redraws in place every second, with colours.</param>
    /// <param name="cancellationToken">Ends a watch (Ctrl+C); the exit code is then 0.</param>
    /// <returns>0 listed, 1 the gateway could not be reached or refused, 2 bad options.</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, bool interactive, CancellationToken cancellationToken)
    {
        if (!Options.TryParse(args, out var options, out var problem))
        {
            await error.WriteLineAsync(problem).ConfigureAwait(false);
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        if (options.Help)
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 0;
        }
        var view = new View(output, options.Json, interactive, options.Watch);
        var failures = 0;
        while (true)
        {
            try
            {
                await using var session = await Session.OpenAsync(options, cancellationToken).ConfigureAwait(false);
                failures = 0;
                if (!options.Watch)
                {
                    await view.ShowAsync(await session.ListAsync(cancellationToken).ConfigureAwait(false), session.GatewayNow).ConfigureAwait(false);
                    return 0;
                }
                await WatchAsync(session, view, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (GatewayRefusedException ex)
            {
                await error.WriteLineAsync($"instances: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or TimeoutException or JsonException)
            {
                await error.WriteLineAsync($"instances: {options.Url}: {Explain(ex)}").ConfigureAwait(false);
                if (!options.Watch)
                    return 1;
            }
            // Only a watch gets here: the connection dropped, so it comes back with backoff (1 s, 2 s, 4 s … 30 s).
            var delay = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures++)));
            await error.WriteLineAsync($"instances: reconnecting in {delay.TotalSeconds:0}s").ConfigureAwait(false);
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
    }

    /// <summary>
    /// A refused TLS certificate hides two levels down ("Unable to connect to the remote server"); say so, and how a
    /// self-signed gateway is trusted.
    /// </summary>
    private static string Explain(Exception ex)
    {
        for (var cause = ex; cause is not null; cause = cause.InnerException)
        {
            if (cause is System.Security.Authentication.AuthenticationException)
                return $"the gateway's TLS certificate was not accepted ({cause.Message}); a self-signed gateway (--tls-auto) is trusted with --tls-fingerprint <the SHA-256 fingerprint it printed>";
        }
        return ex.Message;
    }

    /// <summary>Shows each list as it arrives; on a terminal also once a second, so that ages and statuses move on.</summary>
    private static async Task WatchAsync(Session session, View view, CancellationToken cancellationToken)
    {
        var latest = session.HelloPresence;
        await view.ShowAsync(latest, session.GatewayNow).ConfigureAwait(false);
        var lists = session.PresenceLists(cancellationToken);
        using var clock = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var nextList = lists.ReadAsync(cancellationToken).AsTask();
        var nextTick = view.RedrawsOnClock ? clock.WaitForNextTickAsync(cancellationToken).AsTask() : Task.Delay(Timeout.Infinite, cancellationToken);
        while (true)
        {
            var done = await Task.WhenAny(nextList, nextTick).ConfigureAwait(false);
            if (done == nextList)
            {
                latest = await nextList.ConfigureAwait(false);
                nextList = lists.ReadAsync(cancellationToken).AsTask();
            }
            else
            {
                await nextTick.ConfigureAwait(false);
                nextTick = clock.WaitForNextTickAsync(cancellationToken).AsTask();
            }
            await view.ShowAsync(latest, session.GatewayNow).ConfigureAwait(false);
        }
    }

    private sealed record Options(Uri Url, string? Token, string? Password, byte[]? TlsFingerprint, bool Watch, bool Json, bool Help)
    {
        public static bool TryParse(IReadOnlyList<string> args, out Options options, out string? problem)
        {
            var url = Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_URL") ?? "ws://127.0.0.1:18789";
            var token = Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_TOKEN");
            var password = Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_PASSWORD");
            var fingerprint = Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_TLS_FINGERPRINT");
            bool watch = false, json = false, help = false;
            options = null!;
            problem = null;
            for (var i = 0; i < args.Count; i++)
            {
                var (name, inline) = args[i].Split('=', 2) is [var n, var v] ? (n, v) : (args[i], null);
                string? Value() => inline ?? (i + 1 < args.Count ? args[++i] : null);
                switch (name)
                {
                    case "--watch":
                        watch = true;
                        break;
                    case "--json":
                        json = true;
                        break;
                    case "--help" or "-h":
                        help = true;
                        break;
                    case "--url":
                        url = Value() ?? "";
                        break;
                    case "--token":
                        token = Value();
                        break;
                    case "--password":
                        password = Value();
                        break;
                    case "--tls-fingerprint":
                        fingerprint = Value() ?? "";
                        break;
                    default:
                        problem = $"instances: unknown option {name}";
                        return false;
                }
            }
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss"))
            {
                problem = $"instances: --url must be a ws:// or wss:// URL, not '{url}'";
                return false;
            }
            byte[]? pin = null;
            if (!string.IsNullOrEmpty(fingerprint))
            {
                pin = CertificateFingerprint.Parse(fingerprint);
                if (pin is null || uri.Scheme != "wss")
                {
                    problem = pin is null
                        ? $"instances: --tls-fingerprint must be a SHA-256 fingerprint (AB:CD:… or 64 hex digits), not '{fingerprint}'"
                        : "instances: --tls-fingerprint needs a wss:// URL";
                    return false;
                }
            }
            options = new Options(uri, token, password, pin, watch, json, help);
            return true;
        }
    }

    /// <summary>Writes lists: as JSON (one per line), or as the table, in place on a terminal or one after another.</summary>
    private sealed class View(TextWriter output, bool json, bool interactive, bool watch)
    {
        public bool RedrawsOnClock => interactive && !json;

        public async Task ShowAsync(JsonElement list, long gatewayNow)
        {
            string text;
            if (json)
                text = list.GetRawText() + Environment.NewLine;
            else if (interactive)
                text = "\u001b[H\u001b[2J" + InstancesTable.Format(list, gatewayNow, color: true);
            else
                text = InstancesTable.Format(list, gatewayNow, color: false) + (watch ? Environment.NewLine : "");
            await output.WriteAsync(text).ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One authenticated connection: handshake, <c>system-presence</c>, and the <c>presence</c> events that follow.</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket;
        private long _skewMs;
        private int _nextId;

        private Session(ClientWebSocket socket) => _socket = socket;

        /// <summary>The list in the hello snapshot.</summary>
        public JsonElement HelloPresence { get; private set; }

        /// <summary>Now on the gateway's clock, which is the clock every <c>ts</c> is on.</summary>
        public long GatewayNow => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + Interlocked.Read(ref _skewMs);

        public static async Task<Session> OpenAsync(Options options, CancellationToken cancellationToken)
        {
            var socket = new ClientWebSocket();
            if (options.TlsFingerprint is { } pin)
                socket.Options.RemoteCertificateValidationCallback = CertificateFingerprint.Pin(pin);
            var session = new Session(socket);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(options.Url, timeout.Token).ConfigureAwait(false);
                    await session.HandshakeAsync(options, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no answer within {ConnectTimeout.TotalSeconds:0} s");
                }
                return session;
            }
            catch
            {
                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task<JsonElement> ListAsync(CancellationToken cancellationToken)
        {
            var id = await RequestAsync("system-presence", cancellationToken).ConfigureAwait(false);
            while (true)
            {
                using var frame = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                if (IsResponse(frame, id))
                    return Payload(frame, "system-presence");
            }
        }

        /// <summary>Every <c>presence</c> list from now on; the channel completes with an error when the socket goes.</summary>
        public ChannelReader<JsonElement> PresenceLists(CancellationToken cancellationToken)
        {
            var lists = Channel.CreateUnbounded<JsonElement>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var frame = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                        if (Event(frame) is "presence" && frame.RootElement.GetProperty("payload").TryGetProperty("presence", out var list))
                            lists.Writer.TryWrite(list.Clone());
                        else if (Event(frame) is "tick" && frame.RootElement.GetProperty("payload").TryGetProperty("ts", out var ts))
                            SyncClock(ts);
                    }
                }
                catch (Exception ex)
                {
                    lists.Writer.TryComplete(ex);
                }
            }, CancellationToken.None);
            return lists.Reader;
        }

        public async ValueTask DisposeAsync()
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                    // The gateway went first; nothing is left to close politely.
                }
            }
            _socket.Dispose();
        }

        private async Task HandshakeAsync(Options options, CancellationToken cancellationToken)
        {
            while (true)
            {
                // Nothing else comes before the challenge; anything that does is skipped.
                using var first = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                if (Event(first) == "connect.challenge")
                    break;
            }
            var auth = new JsonObject();
            if (!string.IsNullOrEmpty(options.Token))
                auth["token"] = options.Token;
            if (!string.IsNullOrEmpty(options.Password))
                auth["password"] = options.Password;
            var parameters = new JsonObject
            {
                ["minProtocol"] = 4,
                ["maxProtocol"] = 4,
                ["client"] = new JsonObject
                {
                    ["id"] = "cli",
                    ["version"] = GatewayApp.Version,
                    ["platform"] = Environment.OSVersion.Platform.ToString().ToLowerInvariant(),
                    ["mode"] = "cli",
                },
                ["caps"] = new JsonArray(),
                ["role"] = "operator",
                ["scopes"] = new JsonArray("operator.read"),
                ["auth"] = auth,
            };
            var id = await RequestAsync("connect", cancellationToken, parameters).ConfigureAwait(false);
            while (true)
            {
                using var frame = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                if (!IsResponse(frame, id))
                    continue;
                var snapshot = Payload(frame, "connect").GetProperty("snapshot");
                HelloPresence = snapshot.GetProperty("presence").Clone();
                if (snapshot.TryGetProperty("health", out var health) && health.TryGetProperty("ts", out var ts))
                    SyncClock(ts);
                return;
            }
        }

        private void SyncClock(JsonElement ts)
        {
            if (ts.TryGetInt64(out var gatewayTs))
                Interlocked.Exchange(ref _skewMs, gatewayTs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }

        private async Task<string> RequestAsync(string method, CancellationToken cancellationToken, JsonObject? parameters = null)
        {
            var id = $"{Interlocked.Increment(ref _nextId)}:{Guid.NewGuid()}";
            var frame = new JsonObject { ["type"] = "req", ["id"] = id, ["method"] = method };
            if (parameters is not null)
                frame["params"] = parameters;
            await _socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            return id;
        }

        private async Task<JsonDocument> ReceiveAsync(CancellationToken cancellationToken)
        {
            var message = new ArrayBufferWriter<byte>();
            while (true)
            {
                var result = await _socket.ReceiveAsync(message.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                    throw new WebSocketException($"the gateway closed the connection ({(int?)_socket.CloseStatus} {_socket.CloseStatusDescription})".TrimEnd());
                message.Advance(result.Count);
                if (result.EndOfMessage)
                    return JsonDocument.Parse(message.WrittenMemory);
            }
        }

        private static string? Event(JsonDocument frame) =>
            frame.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("event") && frame.RootElement.TryGetProperty("event", out var name)
                ? name.GetString()
                : null;

        private static bool IsResponse(JsonDocument frame, string id) =>
            frame.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("res")
            && frame.RootElement.TryGetProperty("id", out var responseId) && responseId.ValueEquals(id);

        /// <summary>The payload of an <c>ok</c> response; an error answer becomes <see cref="GatewayRefusedException"/>.</summary>
        private static JsonElement Payload(JsonDocument frame, string method)
        {
            var root = frame.RootElement;
            if (root.GetProperty("ok").GetBoolean())
                return root.GetProperty("payload").Clone();
            var error = root.GetProperty("error");
            var message = error.TryGetProperty("message", out var text) ? text.GetString() : "refused";
            var code = error.TryGetProperty("details", out var details) && details.TryGetProperty("code", out var detail) ? detail.GetString() : null;
            var hint = code is "AUTH_TOKEN_MISMATCH" or "AUTH_PASSWORD_MISMATCH" or "DEVICE_IDENTITY_REQUIRED"
                ? " Pass --token (or set PRESENCE_GATEWAY_TOKEN) with the gateway's secret."
                : "";
            throw new GatewayRefusedException($"the gateway refused {method}: {message}.{hint}");
        }
    }

    private sealed class GatewayRefusedException(string message) : Exception(message);
}
