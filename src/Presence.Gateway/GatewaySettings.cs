using System.Collections.Immutable;
using System.Net;
using Akka.Configuration;
using Presence.Actors.Hosting;
using Presence.Gateway.Auth;
using Presence.Gateway.Network;
using Presence.Gateway.Tls;

namespace Presence.Gateway;

/// <summary>
/// The <c>gateway</c> section of the configuration, read once and validated.
/// Defaults live in <c>hocon/gateway.hocon</c>; command-line options (<see cref="GatewayCommandLine"/>) override them.
/// </summary>
public sealed record GatewaySettings
{
    private static readonly Lazy<Config> Defaults = new(() => HoconDefaults.Load(typeof(GatewaySettings).Assembly, "gateway.hocon"));

    public static Config DefaultConfig => Defaults.Value;

    public required int Port { get; init; }
    public required IPAddress BindAddress { get; init; }
    public required AuthMode Auth { get; init; }
    public SharedSecret? Secret { get; init; }
    public ImmutableArray<string> AllowedOrigins { get; init; } = [];
    public required TimeSpan TickInterval { get; init; }
    public required TimeSpan PingInterval { get; init; }
    public required TimeSpan HandshakeTimeout { get; init; }
    public required int PreauthMaxPayload { get; init; }
    public required int MaxPayload { get; init; }
    public required long MaxBufferedBytes { get; init; }
    public required int MaxPendingHandshakeFrames { get; init; }
    public required AdmissionLimits Limits { get; init; }
    public required TimeSpan NativeHeapTrimInterval { get; init; }

    /// <summary>Peers whose <c>Forwarded</c> / <c>X-Forwarded-For</c> headers name the client; none by default.</summary>
    public TrustedProxies TrustedProxies { get; init; } = TrustedProxies.None;

    /// <summary>Where the certificate for wss:// and https:// comes from; null for plain ws:// and http://.</summary>
    public TlsSettings? Tls { get; init; }

    /// <summary>
    /// What to say at start-up when the gateway listens beyond loopback in clear text with no proxy in front that could
    /// add TLS: then every token and every presence row crosses the network readable by anyone on the path. Null when
    /// there is nothing to warn about (loopback, TLS on, or trusted proxies configured, which terminate TLS).
    /// </summary>
    public string? ClearTextWarning =>
        Tls is not null || !TrustedProxies.IsEmpty || System.Net.IPAddress.IsLoopback(BindAddress)
            ? null
            : $"Listening on {BindAddress} without TLS: tokens and presence (host names, IP addresses) travel in clear text over ws:// "
              + "and anyone on the network path can read them. Serve wss:// with --tls-auto (a self-signed certificate; clients pin the "
              + "fingerprint printed below it) or --tls-cert/--tls-key, or put a TLS-terminating proxy in front and name it with --trusted-proxy.";

    /// <summary>Kestrel's <c>UnsafePreferInlineScheduling</c>: socket completions run the read loop and the outbox's flush on the I/O thread.</summary>
    public required bool InlineIo { get; init; }

    /// <summary>The dispatcher every ConnectionActor runs on; null for Akka's default (<c>gateway.connection-dispatcher</c>).</summary>
    public string? ConnectionDispatcher { get; init; }

    public string Url => $"ws://{(BindAddress.Equals(IPAddress.Any) ? "0.0.0.0" : BindAddress.ToString())}:{Port}";

    /// <summary>Reads and checks the <c>gateway</c> section; an invalid value throws an exception naming its key.</summary>
    public static GatewaySettings Create(Config config)
    {
        // Akka refuses a config as its own fallback, and the defaults may be passed in as they are.
        if (!ReferenceEquals(config, DefaultConfig))
            config = config.WithFallback(DefaultConfig);
        var bind = Bind(config);
        var auth = Enum.TryParse<AuthMode>(config.GetString("gateway.auth"), ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw Invalid("gateway.auth", config, "must be none, token or password");
        var secretKey = auth == AuthMode.Password ? "gateway.password" : "gateway.token";
        var secret = config.GetString(secretKey);
        if (auth != AuthMode.None && string.IsNullOrEmpty(secret))
            throw new GatewaySettingsException($"gateway.auth = {auth.ToString().ToLowerInvariant()} needs a secret: pass --{secretKey[8..]} or set PRESENCE_GATEWAY_{secretKey[8..].ToUpperInvariant()}.", secretKey);
        if (auth == AuthMode.None && !IPAddress.IsLoopback(bind))
            throw new GatewaySettingsException($"Refusing to bind {bind} without auth: anyone on the network could read presence. Use --auth token --token <secret>, or --bind loopback.", "gateway.bind");
        return new GatewaySettings
        {
            Port = Int(config, "gateway.port", 0, 65535),
            BindAddress = bind,
            Auth = auth,
            Secret = auth == AuthMode.None ? null : new SharedSecret(secret),
            AllowedOrigins = [.. HoconDefaults.StringList(config, "gateway.allowed-origins")],
            TickInterval = Duration(config, "gateway.tick-interval"),
            PingInterval = Duration(config, "gateway.ping-interval"),
            HandshakeTimeout = Duration(config, "gateway.handshake-timeout"),
            PreauthMaxPayload = Int(config, "gateway.preauth-max-payload", 1, int.MaxValue),
            MaxPayload = Int(config, "gateway.max-payload", 1, int.MaxValue),
            MaxBufferedBytes = Int(config, "gateway.max-buffered-bytes", 1, int.MaxValue),
            MaxPendingHandshakeFrames = Int(config, "gateway.max-pending-handshake-frames", 0, 10_000),
            Limits = new AdmissionLimits(
                Int(config, "gateway.max-connections", 1, int.MaxValue),
                Int(config, "gateway.max-pending-handshakes-per-address", 1, int.MaxValue),
                Int(config, "gateway.auth-failures-per-address", 1, int.MaxValue),
                Duration(config, "gateway.auth-failure-window"),
                config.GetBoolean("gateway.auth-limit-exempts-loopback"),
                Int(config, "gateway.max-requests-in-flight", 1, int.MaxValue),
                Int(config, "gateway.max-inbound-queue", 1, 1_000_000)),
            NativeHeapTrimInterval = Duration(config, "gateway.native-heap-trim-interval"),
            TrustedProxies = Proxies(config),
            Tls = TlsFrom(config),
            InlineIo = config.GetBoolean("gateway.inline-io"),
            ConnectionDispatcher = HoconDefaults.TryDispatcher(config, "gateway.connection-dispatcher", out var dispatcher, out var rule)
                ? dispatcher
                : throw Invalid("gateway.connection-dispatcher", config, rule),
        };
    }

    private static TrustedProxies Proxies(Config config)
    {
        try
        {
            return TrustedProxies.Parse(HoconDefaults.StringList(config, "gateway.trusted-proxies"));
        }
        catch (FormatException ex)
        {
            throw new GatewaySettingsException($"Invalid configuration gateway.trusted-proxies: {ex.Message}.", "gateway.trusted-proxies");
        }
    }

    /// <summary>Given files win over <c>auto</c>: auto means "make one when none is given".</summary>
    private static TlsSettings? TlsFrom(Config config)
    {
        var certificate = config.GetString("gateway.tls.cert") is { Length: > 0 } cert ? cert : null;
        var key = config.GetString("gateway.tls.key") is { Length: > 0 } k ? k : null;
        if (key is not null && certificate is null)
            throw new GatewaySettingsException("gateway.tls.key needs gateway.tls.cert: pass --tls-cert with --tls-key (or PRESENCE_GATEWAY_TLS_CERT).", "gateway.tls.cert");
        bool auto;
        try
        {
            auto = config.GetBoolean("gateway.tls.auto");
        }
        catch (Exception ex) when (ex is NotSupportedException or FormatException or ConfigurationException)
        {
            throw Invalid("gateway.tls.auto", config, "must be on or off");
        }
        if (certificate is null && !auto)
            return null;
        var dataDirectory = config.GetString("gateway.data-dir") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "presence-gateway");
        return new TlsSettings(certificate, key, auto, Path.GetFullPath(dataDirectory));
    }

    private static IPAddress Bind(Config config)
    {
        var raw = config.GetString("gateway.bind");
        return raw switch
        {
            "loopback" => IPAddress.Loopback,
            "lan" => IPAddress.Any,
            _ when IPAddress.TryParse(raw, out var address) => address,
            _ => throw Invalid("gateway.bind", config, "must be loopback, lan or an IP address"),
        };
    }

    private static int Int(Config config, string key, int min, int max) =>
        int.TryParse(config.GetString(key), out var value) && value >= min && value <= max
            ? value
            : throw Invalid(key, config, $"must be a whole number from {min} to {max}");

    private static TimeSpan Duration(Config config, string key) =>
        HoconDefaults.PositiveDuration(config, key, out var rule) ?? throw Invalid(key, config, rule);

    private static GatewaySettingsException Invalid(string key, Config config, string rule) =>
        new($"Invalid configuration {key} = '{config.GetString(key)}': {rule}.", key);
}

/// <summary>A gateway setting or option is invalid; <see cref="Key"/> names it.</summary>
public sealed class GatewaySettingsException(string message, string key) : Exception(message)
{
    public string Key { get; } = key;
}

/// <summary>Admission control: the most the gateway holds for one address and for everyone together.</summary>
public sealed record AdmissionLimits(
    int MaxConnections,
    int MaxPendingHandshakesPerAddress,
    int AuthFailuresPerAddress,
    TimeSpan AuthFailureWindow,
    bool AuthLimitExemptsLoopback,
    int MaxRequestsInFlight,
    int MaxInboundQueue);
