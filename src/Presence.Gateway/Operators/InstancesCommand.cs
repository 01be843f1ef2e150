using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Presence.Gateway.Tls;
using Spectre.Console;

namespace Presence.Gateway.Operators;

/// <summary>
/// <c>instances</c>: lists a gateway's presence from the terminal over the gateway protocol, as the CLI identity
/// (mode <c>cli</c>, untracked by default, so the listing does not list itself). Its options are in
/// <see cref="InstancesCommandLine"/>.
/// </summary>
internal static class InstancesCommand
{
    public const string Verb = "instances";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>The verb as the executable runs it: Ctrl+C ends a watch (exit code 0) instead of the process.</summary>
    public static async Task<int> RunFromConsoleAsync(InstancesOptions options, CommandLineConsole console, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(options, console, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <param name="options">What to list and how.</param>
    /// <param name="console">Where the listing goes (its <c>Out</c>), and problems and reconnects (its <c>Error</c>).</param>
    /// <param name="cancellationToken">Ends a watch; the exit code is then 0.</param>
    /// <returns>0 listed, 1 the gateway could not be reached or refused.</returns>
    public static async Task<int> RunAsync(InstancesOptions options, CommandLineConsole console, CancellationToken cancellationToken)
    {
        var view = new View(console, options.Json, options.Watch, options.Doctor, options.Nodes);
        var error = console.Error;
        var failures = 0;
        while (true)
        {
            try
            {
                await using var session = await Session.OpenAsync(options, cancellationToken).ConfigureAwait(false);
                failures = 0;
                if (!options.Watch)
                {
                    var list = await session.ListAsync(cancellationToken).ConfigureAwait(false);
                    // Asked after the list, so that every row of the list is among its answer's rows.
                    var instances = await view.InstancesAsync(session, cancellationToken).ConfigureAwait(false);
                    if (options.Nodes && instances is null)
                    {
                        await error.WriteLineAsync($"instances: {options.Url} does not answer {Protocol.InstancesMethod.Name}: it is not a Presence gateway (or an older one), so --nodes has nothing to list.").ConfigureAwait(false);
                        return GatewayCommandLine.Unreachable;
                    }
                    await view.ShowAsync(list, session.GatewayNow, instances).ConfigureAwait(false);
                    return GatewayCommandLine.Ok;
                }
                await WatchAsync(session, view, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return GatewayCommandLine.Ok;
            }
            catch (GatewayRefusedException ex)
            {
                await error.WriteLineAsync($"instances: {ex.Message}").ConfigureAwait(false);
                return GatewayCommandLine.Unreachable;
            }
            catch (Exception ex) when (Dropped(ex) is { } reason)
            {
                await error.WriteLineAsync($"instances: {options.Url}: {Explain(reason)}").ConfigureAwait(false);
                if (!options.Watch)
                    return GatewayCommandLine.Unreachable;
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
                return GatewayCommandLine.Ok;
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

    /// <summary>The network problem behind <paramref name="ex"/>, also when it comes through the watch's channel.</summary>
    private static Exception? Dropped(Exception ex) => ex switch
    {
        ChannelClosedException { InnerException: { } inner } => Dropped(inner),
        WebSocketException or IOException or TimeoutException or JsonException => ex,
        _ => null,
    };

    /// <summary>
    /// Shows each list as it arrives. On a terminal the table is a live display redrawn in place, also once a
    /// second, so that ages and statuses move on between lists; redirected, each list is printed after the last.
    /// </summary>
    private static async Task WatchAsync(Session session, View view, CancellationToken cancellationToken)
    {
        var lists = session.PresenceLists(cancellationToken);
        // Keys and nodes are asked after each list, one request at a time: lists that come meanwhile wait in the channel.
        if (!view.RedrawsInPlace)
        {
            await view.ShowAsync(session.HelloPresence, session.GatewayNow, await view.InstancesAsync(session, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            while (true)
            {
                var list = await lists.ReadAsync(cancellationToken).ConfigureAwait(false);
                await view.ShowAsync(list, session.GatewayNow, await view.InstancesAsync(session, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            }
        }
        var latest = session.HelloPresence;
        var instances = await view.InstancesAsync(session, cancellationToken).ConfigureAwait(false);
        await view.Terminal.Live(InstancesTable.Render(latest, session.GatewayNow, decorated: true, instances)).StartAsync(async live =>
        {
            using var clock = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var nextList = lists.ReadAsync(cancellationToken).AsTask();
            var nextTick = clock.WaitForNextTickAsync(cancellationToken).AsTask();
            while (true)
            {
                var done = await Task.WhenAny(nextList, nextTick).ConfigureAwait(false);
                if (done == nextList)
                {
                    latest = await nextList.ConfigureAwait(false);
                    instances = await view.InstancesAsync(session, cancellationToken).ConfigureAwait(false);
                    nextList = lists.ReadAsync(cancellationToken).AsTask();
                }
                else
                {
                    await nextTick.ConfigureAwait(false);
                    nextTick = clock.WaitForNextTickAsync(cancellationToken).AsTask();
                }
                live.UpdateTarget(InstancesTable.Render(latest, session.GatewayNow, decorated: true, instances));
                live.Refresh();
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Writes lists: as JSON (one per line, exactly as the gateway sent them), or as the table.</summary>
    private sealed class View(CommandLineConsole console, bool json, bool watch, bool doctor, bool nodes)
    {
        public IAnsiConsole Terminal { get; } = InstancesTable.Console(console);

        public bool RedrawsInPlace => console.Interactive && !json;

        /// <summary>The answer to <c>presence-gateway.instances</c> when this view shows keys or nodes (not the raw list, not the doctor's report).</summary>
        public Task<JsonElement?> InstancesAsync(Session session, CancellationToken cancellationToken) =>
            nodes || (!json && !doctor) ? session.InstancesAsync(cancellationToken) : Task.FromResult<JsonElement?>(null);

        /// <param name="list">The presence list.</param>
        /// <param name="gatewayNow">Now on the gateway's clock.</param>
        /// <param name="instances">The answer to <c>presence-gateway.instances</c>, when the gateway has it.</param>
        public async Task ShowAsync(JsonElement list, long gatewayNow, JsonElement? instances = null)
        {
            if (json)
                await console.Out.WriteAsync((nodes ? instances!.Value : list).GetRawText() + Environment.NewLine).ConfigureAwait(false);
            else if (nodes)
                Terminal.Write(InstancesTable.RenderNodes(list, instances!.Value, decorated: console.Interactive));
            else if (doctor)
                Terminal.Write(InstancesTable.RenderDoctor(list));
            else
            {
                Terminal.Write(InstancesTable.Render(list, gatewayNow, decorated: console.Interactive, instances));
                if (watch)
                    Terminal.WriteLine();
            }
            await console.Out.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One authenticated connection: handshake, <c>system-presence</c>, and the <c>presence</c> events that follow.</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket;
        private long _skewMs;
        private int _nextId;
        private bool _answersInstances;
        // Once PresenceLists runs, its pump reads the socket: responses come to requests through this channel.
        private Channel<JsonElement>? _responses;

        private Session(ClientWebSocket socket) => _socket = socket;

        /// <summary>The list in the hello snapshot.</summary>
        public JsonElement HelloPresence { get; private set; }

        /// <summary>Now on the gateway's clock, which is the clock every <c>ts</c> is on.</summary>
        public long GatewayNow => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + Interlocked.Read(ref _skewMs);

        public static async Task<Session> OpenAsync(InstancesOptions options, CancellationToken cancellationToken)
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
                if (IsResponse(frame.RootElement, id))
                    return Payload(frame.RootElement, "system-presence");
            }
        }

        /// <summary>The answer to <c>presence-gateway.instances</c>, or null from a gateway that does not list that method in its hello.</summary>
        public async Task<JsonElement?> InstancesAsync(CancellationToken cancellationToken)
        {
            if (!_answersInstances)
                return null;
            var id = await RequestAsync(Protocol.InstancesMethod.Name, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                if (_responses is { } responses)
                {
                    var response = await responses.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    if (IsResponse(response, id))
                        return Payload(response, Protocol.InstancesMethod.Name);
                    continue;
                }
                using var frame = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                if (IsResponse(frame.RootElement, id))
                    return Payload(frame.RootElement, Protocol.InstancesMethod.Name);
            }
        }

        /// <summary>Every <c>presence</c> list from now on; the channel completes with an error when the socket goes.</summary>
        public ChannelReader<JsonElement> PresenceLists(CancellationToken cancellationToken)
        {
            var lists = Channel.CreateUnbounded<JsonElement>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var responses = _responses = Channel.CreateUnbounded<JsonElement>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
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
                        else if (frame.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("res"))
                            responses.Writer.TryWrite(frame.RootElement.Clone());
                    }
                }
                catch (Exception ex)
                {
                    lists.Writer.TryComplete(ex);
                    responses.Writer.TryComplete(ex);
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

        private async Task HandshakeAsync(InstancesOptions options, CancellationToken cancellationToken)
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
                if (!IsResponse(frame.RootElement, id))
                    continue;
                var hello = Payload(frame.RootElement, "connect");
                // An OpenClaw gateway does not have this gateway's own read; asking it would only earn an error.
                _answersInstances = hello.TryGetProperty("features", out var features) && features.TryGetProperty("methods", out var methods)
                    && methods.ValueKind == JsonValueKind.Array && methods.EnumerateArray().Any(method => method.ValueEquals(Protocol.InstancesMethod.Name));
                var snapshot = hello.GetProperty("snapshot");
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

        private static bool IsResponse(JsonElement frame, string id) =>
            frame.TryGetProperty("type", out var type) && type.ValueEquals("res")
            && frame.TryGetProperty("id", out var responseId) && responseId.ValueEquals(id);

        /// <summary>The payload of an <c>ok</c> response; an error answer becomes <see cref="GatewayRefusedException"/>.</summary>
        private static JsonElement Payload(JsonElement root, string method)
        {
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
