using Akka.Configuration;
using Presence.Actors.Hosting;
using Xunit;

namespace Presence.Gateway.Tests.Auth;

/// <summary><c>gateway.allowed-origins</c> from the shipped <c>gateway.hocon</c>, the environment and the configuration.</summary>
public sealed class AllowedOriginsSettingSpecs
{
    private static GatewaySettings FromShippedHocon(IReadOnlyDictionary<string, string> environment)
    {
        using var stream = typeof(GatewaySettings).Assembly.GetManifestResourceStream("gateway.hocon")!;
        using var reader = new StreamReader(stream);
        var hocon = HoconDefaults.ResolveEnvironmentOverrides(reader.ReadToEnd(), name => environment.GetValueOrDefault(name));
        return GatewaySettings.Create(ConfigurationFactory.ParseString(hocon));
    }

    [Fact]
    public void Should_allow_no_other_origin_by_default()
    {
        Assert.Empty(FromShippedHocon(new Dictionary<string, string>()).AllowedOrigins);
    }

    [Fact]
    public void Should_take_a_comma_separated_list_from_the_environment()
    {
        var settings = FromShippedHocon(new Dictionary<string, string>
        {
            ["PRESENCE_GATEWAY_ALLOWED_ORIGINS"] = "https://ops.example, http://192.0.2.5:5173,,",
        });

        Assert.Equal(["https://ops.example", "http://192.0.2.5:5173"], settings.AllowedOrigins.ToArray());
    }

    [Fact]
    public void Should_take_a_hocon_list_from_the_configuration()
    {
        var settings = GatewaySettings.Create(ConfigurationFactory.ParseString("""gateway.allowed-origins = ["https://ops.example", "*"]"""));

        Assert.Equal(["https://ops.example", "*"], settings.AllowedOrigins.ToArray());
    }

    [Fact]
    public void Should_take_each_repeated_command_line_option_over_the_environment()
    {
        var settings = GatewaySettings.Create(GatewayCommandLine.GatewayConfig(["--allowed-origin", "https://ops.example", "--allowed-origin=http://192.0.2.5:5173"]));

        Assert.Equal(["https://ops.example", "http://192.0.2.5:5173"], settings.AllowedOrigins.ToArray());
    }
}
