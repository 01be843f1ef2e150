using System.Collections.Immutable;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using System.Text.Json;
using Akka.Configuration;
using Presence.Gateway.Operators;

namespace Presence.Gateway;

/// <summary>How a gateway option turns into configuration.</summary>
public enum GatewayOptionKind
{
    /// <summary><c>--port 18789</c> or <c>--port=18789</c>: sets the key to the value.</summary>
    Value,

    /// <summary><c>--cluster</c> alone sets the key on; <c>--cluster off</c> / <c>--cluster=off</c> still works.</summary>
    Flag,

    /// <summary><c>--seed a --seed b</c>: may be repeated, and sets the key to the list of values.</summary>
    List,
}

/// <summary>
/// One gateway option: the configuration key it overrides and the environment variable the HOCON defaults
/// read for that key (shown in <c>--help</c>; the fallback itself lives in the <c>.hocon</c> file).
/// </summary>
public sealed record GatewayOption(string Name, string Key, string? Environment, string Description, GatewayOptionKind Kind = GatewayOptionKind.Value)
{
    internal Option ToOption()
    {
        var description = Environment is null ? Description : $"{Description} [env: {Environment}]";
        return Kind switch
        {
            // A repeated option collects its values; `--seed a b` would hide a typo as a second seed.
            GatewayOptionKind.List => new Option<string[]>(Name) { Description = description, HelpName = "value", Arity = ArgumentArity.OneOrMore },
            GatewayOptionKind.Flag => new Option<string>(Name) { Description = description, HelpName = "on|off", Arity = ArgumentArity.ZeroOrOne },
            _ => new Option<string>(Name) { Description = description, HelpName = "value" },
        };
    }
}

/// <summary>
/// The executable's command line (System.CommandLine): the gateway's options on the root command, and the
/// <c>instances</c> verb. Every option only overrides configuration; defaults and environment variables stay in
/// the HOCON files, so a value is validated in one place (<see cref="GatewaySettings.Create"/>) however it was given.
/// Exit codes: 0 done, 1 the gateway could not be reached or refused (<c>instances</c>), 2 bad options or settings.
/// </summary>
public static class GatewayCommandLine
{
    public const int Ok = 0;
    public const int Unreachable = 1;
    public const int BadOptions = 2;

    /// <summary>
    /// Every gateway option. Adding one is one line here (plus its key in <c>hocon/gateway.hocon</c>, which is
    /// where its default and environment variable live): it is then parsed, listed in <c>--help</c> and applied.
    /// </summary>
    public static readonly ImmutableArray<GatewayOption> Options =
    [
        new("--port", "gateway.port", "PRESENCE_GATEWAY_PORT", "TCP port of the WebSocket and HTTP endpoint (0: any free port). Default 18789."),
        new("--bind", "gateway.bind", "PRESENCE_GATEWAY_BIND", "loopback, lan (all interfaces) or an IP address; beyond loopback auth is required. Default loopback."),
        new("--auth", "gateway.auth", "PRESENCE_GATEWAY_AUTH", "none, token or password. Default none."),
        new("--token", "gateway.token", "PRESENCE_GATEWAY_TOKEN", "Shared secret for --auth token."),
        new("--password", "gateway.password", "PRESENCE_GATEWAY_PASSWORD", "Shared secret for --auth password."),
        new("--tick-interval", "gateway.tick-interval", "PRESENCE_GATEWAY_TICK_INTERVAL", "Period of the tick event (policy.tickIntervalMs). Default 30s."),
        new("--ping-interval", "gateway.ping-interval", "PRESENCE_GATEWAY_PING_INTERVAL", "WebSocket ping period; each ping a connection survives renews its row. Default 25s."),
        new("--handshake-timeout", "gateway.handshake-timeout", "PRESENCE_GATEWAY_HANDSHAKE_TIMEOUT", "Socket open to a successful connect. Default 15s."),
        new("--cluster", "presence.cluster.enabled", "PRESENCE_CLUSTER", "Join or form a cluster (any --seed turns it on too).", GatewayOptionKind.Flag),
        new("--cluster-port", "presence.cluster.port", "PRESENCE_CLUSTER_PORT", "Akka.Remote TCP port (0: any free port). Default 4053."),
        new("--seed", "presence.cluster.seeds", "PRESENCE_CLUSTER_SEEDS", "A node to join, host:port or akka.tcp://presence-gateway@host:port; repeatable.", GatewayOptionKind.List),
        new("--allowed-origin", "gateway.allowed-origins", "PRESENCE_GATEWAY_ALLOWED_ORIGINS", "A browser origin allowed besides the gateway's own and, from this machine, loopback pages (*: any); repeatable.", GatewayOptionKind.List),
        new("--tls-cert", "gateway.tls.cert", "PRESENCE_GATEWAY_TLS_CERT", "PEM certificate (may carry its chain) to serve wss:// and https://; reloaded when it changes."),
        new("--tls-key", "gateway.tls.key", "PRESENCE_GATEWAY_TLS_KEY", "PEM private key of --tls-cert (may be the certificate file itself)."),
        new("--tls-auto", "gateway.tls.auto", "PRESENCE_GATEWAY_TLS_AUTO", "Without --tls-cert: a self-signed certificate made on first start and reused; its SHA-256 fingerprint is printed.", GatewayOptionKind.Flag),
        new("--data-dir", "gateway.data-dir", "PRESENCE_GATEWAY_DATA_DIR", "Where --tls-auto keeps its certificate. Default ~/.local/share/presence-gateway."),
        new("--trusted-proxy", "gateway.trusted-proxies", "PRESENCE_GATEWAY_TRUSTED_PROXIES", "A reverse proxy's address or network (CIDR) whose Forwarded / X-Forwarded-For name the client; repeatable.", GatewayOptionKind.List),
    ];

    /// <summary>Runs the executable: the gateway, or a verb. Signals are left to the gateway's host and to each verb.</summary>
    public static Task<int> InvokeAsync(IReadOnlyList<string> args, CommandLineConsole console, CancellationToken cancellationToken = default)
    {
        var root = Root(console);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
            return Task.FromResult(ReportErrors(parsed, console.Error));
        return parsed.InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error, ProcessTerminationTimeout = null }, cancellationToken);
    }

    /// <summary>The configuration the gateway options in <paramref name="args"/> set (and nothing else: defaults stay underneath).</summary>
    /// <exception cref="GatewaySettingsException">An unknown option, or one without its value; the message names it.</exception>
    public static Config GatewayConfig(IReadOnlyList<string> args)
    {
        var parsed = Root(CommandLineConsole.Null, out var symbols).Parse(args);
        if (parsed.Errors.Count > 0)
            throw new GatewaySettingsException(string.Join(" ", parsed.Errors.Select(error => error.Message)), OptionNamed(parsed.Errors[0]) ?? "");
        return ToConfig(symbols, parsed);
    }

    private static RootCommand Root(CommandLineConsole console) => Root(console, out _);

    private static RootCommand Root(CommandLineConsole console, out (GatewayOption Option, Option Symbol)[] symbols)
    {
        var root = new RootCommand("Presence gateway: speaks the OpenClaw Gateway WebSocket protocol and keeps the presence list.");
        var gatewayOptions = symbols = [.. Options.Select(option => (option, option.ToOption()))];
        foreach (var (_, symbol) in gatewayOptions)
            root.Options.Add(symbol);
        root.SetAction((parsed, cancellationToken) => RunGatewayAsync(ToConfig(gatewayOptions, parsed), console.Error));
        root.Subcommands.Add(InstancesCommandLine.Create(console));
        return root;
    }

    private static Config ToConfig(IEnumerable<(GatewayOption Option, Option Symbol)> symbols, ParseResult parsed)
    {
        var hocon = new StringBuilder();
        foreach (var (option, symbol) in symbols)
        {
            if (parsed.GetResult(symbol) is not { } given)
                continue;
            var values = given.Tokens.Select(token => token.Value).ToArray();
            // A JSON string is a valid HOCON string, so any value is quoted safely.
            var value = option.Kind switch
            {
                GatewayOptionKind.List => "[" + string.Join(", ", values.Select(item => JsonSerializer.Serialize(item))) + "]",
                GatewayOptionKind.Flag when values.Length == 0 => "on",
                _ => JsonSerializer.Serialize(values[^1]),
            };
            hocon.Append(option.Key).Append(" = ").AppendLine(value);
        }
        return ConfigurationFactory.ParseString(hocon.ToString());
    }

    private static async Task<int> RunGatewayAsync(Config options, TextWriter error)
    {
        try
        {
            await GatewayApp.Build(options).RunAsync().ConfigureAwait(false);
            return Ok;
        }
        catch (GatewaySettingsException ex)
        {
            var option = Options.FirstOrDefault(option => option.Key == ex.Key);
            await error.WriteLineAsync(option is null ? ex.Message : $"{ex.Message} (set by {option.Name}{(option.Environment is null ? "" : $" or {option.Environment}")})").ConfigureAwait(false);
            return BadOptions;
        }
    }

    /// <summary>Each problem on its own line, then where the usage is; exit code 2, as for any bad option.</summary>
    private static int ReportErrors(ParseResult parsed, TextWriter error)
    {
        foreach (var problem in parsed.Errors)
            error.WriteLine(problem.Message);
        var verb = parsed.CommandResult.Command is RootCommand ? "" : parsed.CommandResult.Command.Name + " ";
        error.WriteLine($"Usage: {RootCommand.ExecutableName} {verb}--help");
        return BadOptions;
    }

    private static string? OptionNamed(ParseError error) => error.SymbolResult is OptionResult option ? option.Option.Name : null;
}

/// <summary>
/// Where the command line writes, whether its output is a terminal (colours, a table redrawn in place), and
/// that terminal's width when it is not the process's own console (null: as wide as the console).
/// </summary>
public sealed record CommandLineConsole(TextWriter Out, TextWriter Error, bool Interactive, int? Width = null)
{
    public static CommandLineConsole Null { get; } = new(TextWriter.Null, TextWriter.Null, Interactive: false);

    public static CommandLineConsole System => new(Console.Out, Console.Error, Interactive: !Console.IsOutputRedirected);
}
