using System.CommandLine;
using System.CommandLine.Parsing;
using Presence.Gateway.Tls;

namespace Presence.Gateway.Operators;

/// <summary>What <c>instances</c> was asked to do.</summary>
internal sealed record InstancesOptions(Uri Url, string? Token, string? Password, bool Watch, bool Json, bool Doctor = false, byte[]? TlsFingerprint = null, bool Nodes = false);

/// <summary>
/// The <c>instances</c> verb's options. Adding one: a field here, its line in <see cref="Bind"/>, and its
/// property on <see cref="InstancesOptions"/>; <c>--help</c>, errors naming it and exit code 2 come with it.
/// </summary>
internal sealed class InstancesCommandLine
{
    private const string DefaultUrl = "ws://127.0.0.1:18789";

    private readonly Option<Uri> _url = new("--url")
    {
        Description = "Gateway to ask: ws:// or wss://. [env: PRESENCE_GATEWAY_URL]",
        HelpName = "url",
        DefaultValueFactory = result => ParseUrl(result, Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_URL") ?? DefaultUrl)!,
        CustomParser = result => ParseUrl(result, result.Tokens[^1].Value),
    };

    // The secrets fall back to the environment in Bind, not in a default: --help would print a default.
    private readonly Option<string> _token = new("--token")
    {
        Description = "The gateway's shared secret. [env: PRESENCE_GATEWAY_TOKEN]",
        HelpName = "secret",
    };

    private readonly Option<string> _password = new("--password")
    {
        Description = "The gateway's password, for --auth password. [env: PRESENCE_GATEWAY_PASSWORD]",
        HelpName = "secret",
    };

    private readonly Option<byte[]> _tlsFingerprint = new("--tls-fingerprint")
    {
        Description = "With a wss:// URL: accept exactly the certificate with this SHA-256 fingerprint (AB:CD:… as the gateway prints it, or 64 hex digits), e.g. a --tls-auto gateway's. [env: PRESENCE_GATEWAY_TLS_FINGERPRINT]",
        HelpName = "sha256",
        CustomParser = result => ParseFingerprint(result, result.Tokens[^1].Value),
    };

    private readonly Option<bool> _watch = new("--watch")
    {
        Description = "Keep the listing up to date until Ctrl+C (redrawn in place on a terminal; reconnects with backoff).",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the raw presence list as JSON (one list per line with --watch).",
    };

    private readonly Option<bool> _doctor = new("--doctor")
    {
        Description = "Explain rows that look like the same client: which duplicate check applies, and the fix in the client.",
    };

    private readonly Option<bool> _nodes = new("--nodes")
    {
        Description = "List the cluster's nodes instead: each member's status, whether the asked gateway reaches it, and the rows it owns (with --json: the raw presence-gateway.instances answer).",
    };

    public static Command Create(CommandLineConsole console)
    {
        var options = new InstancesCommandLine();
        var command = new Command(InstancesCommand.Verb, "List a gateway's presence over the gateway protocol, as the CLI client (which does not list itself).")
        {
            options._url,
            options._token,
            options._password,
            options._tlsFingerprint,
            options._watch,
            options._json,
            options._doctor,
            options._nodes,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(options._doctor) && (result.GetValue(options._watch) || result.GetValue(options._json) || result.GetValue(options._nodes)))
                result.AddError("--doctor prints one report: it cannot be combined with --watch, --json or --nodes.");
            else if (result.GetValue(options._nodes) && result.GetValue(options._watch))
                result.AddError("--nodes prints the members once: it cannot be combined with --watch.");
        });
        command.SetAction(async (parsed, cancellationToken) =>
        {
            // Here, not in a validator: only once every option parsed can their values be read together.
            if (parsed.GetResult(options._tlsFingerprint) is not null && parsed.GetValue(options._url)!.Scheme != "wss")
            {
                await console.Error.WriteLineAsync("--tls-fingerprint needs a wss:// URL: it pins a TLS gateway's certificate.").ConfigureAwait(false);
                return 2;
            }
            return await InstancesCommand.RunFromConsoleAsync(options.Bind(parsed), console, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private InstancesOptions Bind(ParseResult parsed) => new(
        parsed.GetValue(_url)!,
        parsed.GetValue(_token) ?? Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_TOKEN"),
        parsed.GetValue(_password) ?? Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_PASSWORD"),
        parsed.GetValue(_watch),
        parsed.GetValue(_json),
        parsed.GetValue(_doctor),
        parsed.GetValue(_tlsFingerprint) ?? CertificateFingerprint.Parse(Environment.GetEnvironmentVariable("PRESENCE_GATEWAY_TLS_FINGERPRINT")),
        parsed.GetValue(_nodes));

    private static byte[]? ParseFingerprint(ArgumentResult result, string text)
    {
        if (CertificateFingerprint.Parse(text) is { } pin)
            return pin;
        result.AddError($"--tls-fingerprint must be a SHA-256 fingerprint (AB:CD:… or 64 hex digits), not '{text}'.");
        return null;
    }

    private static Uri? ParseUrl(ArgumentResult result, string text)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss")
            return uri;
        result.AddError($"--url must be a ws:// or wss:// URL, not '{text}'.");
        return null;
    }
}
