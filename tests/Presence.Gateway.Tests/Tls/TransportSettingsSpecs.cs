using System.Net;
using Akka.Configuration;
using Presence.Actors.Hosting;
using Presence.Gateway.Tests.Operators;
using Presence.Gateway.Tls;
using Xunit;

namespace Presence.Gateway.Tests.Tls;

/// <summary>The TLS and proxy settings as configuration, environment and start-up advice give them.</summary>
public sealed class TransportSettingsSpecs
{
    private static readonly string ShippedHocon = File.ReadAllText(Path.Combine(Repository.Root, "hocon", "gateway.hocon"));

    private static GatewaySettings FromHocon(string hocon) => GatewaySettings.Create(ConfigurationFactory.ParseString(hocon));

    private static GatewaySettings FromEnvironment(Dictionary<string, string> environment) =>
        GatewaySettings.Create(ConfigurationFactory.ParseString(HoconDefaults.ResolveEnvironmentOverrides(ShippedHocon, name => environment.GetValueOrDefault(name))));

    [Fact]
    public void Should_read_tls_data_dir_and_trusted_proxies_from_the_environment()
    {
        var settings = FromEnvironment(new()
        {
            ["PRESENCE_GATEWAY_TLS_AUTO"] = "on",
            ["PRESENCE_GATEWAY_DATA_DIR"] = "/var/lib/presence",
            ["PRESENCE_GATEWAY_TRUSTED_PROXIES"] = "10.0.0.0/8, 192.0.2.7",
        });

        Assert.Equal(new TlsSettings(null, null, true, "/var/lib/presence"), settings.Tls);
        Assert.True(settings.TrustedProxies.Contains(IPAddress.Parse("10.1.2.3")));
        Assert.True(settings.TrustedProxies.Contains(IPAddress.Parse("192.0.2.7")));
        Assert.False(settings.TrustedProxies.Contains(IPAddress.Parse("192.0.2.8")));
    }

    [Theory]
    [InlineData("on", "")]
    [InlineData("off", "172.16.0.0/12")]
    public void Should_accept_what_docker_compose_passes_for_either_way_of_giving_clients_tls(string auto, string proxies)
    {
        var settings = FromEnvironment(new()
        {
            ["PRESENCE_GATEWAY_BIND"] = "lan",
            ["PRESENCE_GATEWAY_AUTH"] = "token",
            ["PRESENCE_GATEWAY_TOKEN"] = "s3cret",
            ["PRESENCE_GATEWAY_TLS_AUTO"] = auto,
            ["PRESENCE_GATEWAY_DATA_DIR"] = "/data",
            ["PRESENCE_GATEWAY_TRUSTED_PROXIES"] = proxies,
        });

        Assert.Equal(auto == "on", settings.Tls is not null);
        Assert.Equal(proxies.Length == 0, settings.TrustedProxies.IsEmpty);
        // Either way the gateway starts quietly: TLS on it, or a proxy in front that adds it.
        Assert.Null(settings.ClearTextWarning);
    }

    [Fact]
    public void Should_take_the_tls_and_proxy_options_from_the_command_line()
    {
        var settings = GatewaySettings.Create(GatewayCommandLine.GatewayConfig(
            ["--tls-auto", "--data-dir", "/srv/gw", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy=192.0.2.7"]));
        var files = GatewaySettings.Create(GatewayCommandLine.GatewayConfig(["--tls-cert", "/etc/gw/cert.pem", "--tls-key=/etc/gw/key.pem", "--tls-auto=off"]));

        Assert.Equal(new TlsSettings(null, null, true, "/srv/gw"), settings.Tls);
        Assert.Equal(2, settings.TrustedProxies.Networks.Length);
        Assert.True(settings.TrustedProxies.Contains(IPAddress.Parse("192.0.2.7")));
        Assert.Equal(("/etc/gw/cert.pem", "/etc/gw/key.pem", false), (files.Tls!.CertificatePath, files.Tls.KeyPath, files.Tls.Auto));
    }

    [Fact]
    public void Should_stay_plain_with_no_proxies_trusted_by_default()
    {
        var settings = FromEnvironment([]);

        Assert.Null(settings.Tls);
        Assert.True(settings.TrustedProxies.IsEmpty);
        Assert.Null(settings.ClearTextWarning);
    }

    [Fact]
    public void Should_prefer_given_certificate_files_over_auto_and_take_the_key_from_the_certificate_file_when_none_is_given()
    {
        var settings = FromHocon("gateway.tls { cert = \"/etc/gw/full.pem\", auto = on }");

        Assert.Equal(new TlsSettings("/etc/gw/full.pem", null, true, settings.Tls!.DataDirectory), settings.Tls);
    }

    [Theory]
    [InlineData("gateway.trusted-proxies = [\"10.0.0.0/40\"]", "gateway.trusted-proxies")]
    [InlineData("gateway.trusted-proxies = \"proxy.example\"", "gateway.trusted-proxies")]
    [InlineData("gateway.tls.auto = maybe", "gateway.tls.auto")]
    [InlineData("gateway.tls.key = \"/etc/gw/key.pem\"", "gateway.tls.cert")]
    public void Should_refuse_an_invalid_value_naming_its_key(string hocon, string key)
    {
        var error = Assert.Throws<GatewaySettingsException>(() => FromHocon(hocon));

        Assert.Equal(key, error.Key);
    }

    [Fact]
    public void Should_warn_loudly_only_when_tokens_would_cross_the_network_in_clear_text()
    {
        const string Lan = "gateway { bind = lan, auth = token, token = s3cret }";

        var warning = FromHocon(Lan).ClearTextWarning;

        Assert.NotNull(warning);
        Assert.Contains("clear text", warning, StringComparison.Ordinal);
        Assert.Contains("--tls-auto", warning, StringComparison.Ordinal);
        Assert.Contains("--trusted-proxy", warning, StringComparison.Ordinal);
        Assert.Null(FromHocon(Lan + "\ngateway.tls.auto = on").ClearTextWarning);
        Assert.Null(FromHocon(Lan + "\ngateway.trusted-proxies = [\"10.0.0.5\"]").ClearTextWarning);
        Assert.Null(FromHocon("gateway { bind = \"127.0.0.1\" }").ClearTextWarning);
        Assert.NotNull(FromHocon("gateway { bind = \"192.0.2.10\", auth = token, token = s3cret }").ClearTextWarning);
    }
}
