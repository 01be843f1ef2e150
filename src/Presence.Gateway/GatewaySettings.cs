using System.Collections.Immutable;
using System.Net;
using Akka.Configuration;
using Presence.Actors.Hosting;
using Presence.Gateway.Auth;

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
            AllowedOrigins = [.. config.GetStringList("gateway.allowed-origins")],
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
                Int(config, "gateway.max-requests-in-flight-per-connection", 1, int.MaxValue),
                Int(config, "gateway.max-requests-in-flight", 1, int.MaxValue),
                Int(config, "gateway.max-inbound-queue", 1, 1_000_000)),
            NativeHeapTrimInterval = Duration(config, "gateway.native-heap-trim-interval"),
        };
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
    int MaxRequestsInFlightPerConnection,
    int MaxRequestsInFlight,
    int MaxInboundQueue);
