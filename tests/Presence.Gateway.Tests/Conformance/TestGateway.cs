using Akka.Configuration;
using Microsoft.AspNetCore.Builder;
using Presence.Actors.Domain;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// A real gateway (Kestrel + actor system) on 127.0.0.1 and a port the OS picks, started
/// through the same <see cref="GatewayApp.Build(IReadOnlyList{string}, Config?, PresenceEntry?)"/> the executable uses. Each test starts its
/// own, so tests never share presence state and may run in parallel.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable
{
    /// <summary>The shared secret every token-mode gateway of this suite is started with.</summary>
    public const string Token = "secret";

    public const string SelfInstanceId = "conformance-self";
    public const string SelfHost = "conformance-host";
    public const string SelfIp = "192.0.2.10";

    private readonly WebApplication _app;
    private int _stopped;

    private TestGateway(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>ws://127.0.0.1:&lt;port&gt;, or wss:// with TLS on.</summary>
    public Uri Url { get; }

    /// <summary>What the gateway's own pages are served from, i.e. the Origin a browser on the gateway host sends.</summary>
    public string OwnOrigin => $"{(Url.Scheme == "wss" ? "https" : "http")}://{Url.Authority}";

    /// <summary>
    /// Starts a gateway in token mode (secret <see cref="Token"/>) unless <paramref name="args"/> says
    /// otherwise; an option in <paramref name="args"/> replaces its default. <paramref name="hocon"/> overrides
    /// <c>gateway.*</c> and <c>presence.*</c> keys (short timers).
    /// </summary>
    public static Task<TestGateway> StartAsync(string hocon = "", params string[] args) =>
        StartWithSelfAsync(SelfInstanceId, SelfHost, hocon, args);

    /// <summary>
    /// A gateway that is one node of an in-process cluster: <paramref name="clusterPort"/> is its Akka.Remote port and
    /// <paramref name="seedPort"/> the port of the node to join (its own for the first). Its self row is named after
    /// <paramref name="name"/>, so that each node's row is told apart.
    /// </summary>
    public static Task<TestGateway> StartNodeAsync(string name, int clusterPort, int seedPort) =>
        StartWithSelfAsync($"{SelfInstanceId}-{name}", $"{SelfHost}-{name}", "", ["--cluster", "--cluster-port", clusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", $"127.0.0.1:{seedPort}"]);

    private static async Task<TestGateway> StartWithSelfAsync(string selfInstanceId, string selfHost, string hocon, string[] args)
    {
        (string Option, string Value)[] defaults = [("--port", "0"), ("--bind", "127.0.0.1"), ("--auth", "token"), ("--token", Token)];
        // A fixed self row makes the gateway's own entry predictable whatever machine runs the suite.
        var self = SelfEntry.Create(selfHost, SelfIp, "0.1.0", "linux conformance", "Linux", selfInstanceId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        string[] options = [.. defaults.Where(d => !args.Contains(d.Option)).SelectMany(d => new[] { d.Option, d.Value }), .. args];
        var app = GatewayApp.Build(options, ConfigurationFactory.ParseString(hocon), self);
        try
        {
            await app.StartAsync().WaitAsync(TestClient.DefaultTimeout);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new TestGateway(app, new Uri(GatewayApp.ListeningUrl(app)));
    }

    public Task<TestClient> ConnectAsync(string? origin = null, System.Net.IPAddress? from = null, IReadOnlyDictionary<string, string>? headers = null, byte[]? pinnedSha256 = null) =>
        TestClient.ConnectAsync(Url, origin, from, headers, pinnedSha256);

    /// <summary>The gateway's services, for specs that reach into its actor system.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Opens a socket and completes a handshake with <paramref name="parameters"/> (default: the reference client's identity).</summary>
    public async Task<TestClient> ConnectAndHandshakeAsync(
        System.Text.Json.Nodes.JsonObject? parameters = null, string? origin = null, System.Net.IPAddress? from = null, IReadOnlyDictionary<string, string>? headers = null, byte[]? pinnedSha256 = null)
    {
        var client = await ConnectAsync(origin, from, headers, pinnedSha256);
        try
        {
            await client.HandshakeAsync(parameters);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>A graceful stop, as on SIGTERM; safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
