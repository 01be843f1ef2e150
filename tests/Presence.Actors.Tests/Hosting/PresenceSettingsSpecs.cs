using Akka.Configuration;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Hosting;

public sealed class PresenceSettingsSpecs
{
    private const string ShippedHocon = """
        presence {
          ttl = 5m
          ttl = ${?PRESENCE_TTL}
          untracked-modes = ["cli"]
          untracked-modes = ${?PRESENCE_UNTRACKED_MODES}
        }
        """;

    private static PresenceSettingsException Rejected(string hocon) =>
        Assert.Throws<PresenceSettingsException>(() => TestConfigs.Settings(hocon));

    [Fact]
    public void Should_read_the_defaults_from_the_embedded_hocon()
    {
        var settings = PresenceSettings.Create(Config.Empty);

        Assert.Equal(TimeSpan.FromMinutes(5), settings.Ttl);
        Assert.Equal(200, settings.MaxEntries);
        Assert.Equal(["cli"], settings.UntrackedModes);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.SweepInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.BroadcastInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.AskTimeout);
        Assert.Equal(new PresenceLimits(300_000, 200), settings.Limits);
    }

    [Fact]
    public void Should_ship_every_default_in_the_embedded_hocon_itself()
    {
        // Create falls back to DefaultConfig, so the defaults above must come from the file, not from code.
        var defaults = PresenceSettings.DefaultConfig;

        Assert.Equal(TimeSpan.FromMinutes(5), defaults.GetTimeSpan("presence.ttl"));
        Assert.Equal(200, defaults.GetInt("presence.max-entries"));
        Assert.Equal(["cli"], defaults.GetStringList("presence.untracked-modes"));
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.GetTimeSpan("presence.sweep-interval"));
        Assert.Equal(TimeSpan.FromMilliseconds(100), defaults.GetTimeSpan("presence.broadcast-interval"));
        Assert.Equal(TimeSpan.FromSeconds(3), defaults.GetTimeSpan("presence.ask-timeout"));
    }

    [Fact]
    public void Should_take_overrides_from_the_config()
    {
        var settings = TestConfigs.Settings("""
            presence {
              ttl = 2m
              max-entries = 50
              untracked-modes = ["cli", "probe"]
              sweep-interval = 1m
              broadcast-interval = 250ms
              ask-timeout = 1s
            }
            """);

        Assert.Equal(
            new PresenceSettings(TimeSpan.FromMinutes(2), 50, settings.UntrackedModes, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)),
            settings);
        Assert.Equal(["cli", "probe"], settings.UntrackedModes.Order());
    }

    [Theory]
    [InlineData("default", null)]
    [InlineData("presence.dispatchers.pinned", "presence.dispatchers.pinned")]
    [InlineData("presence.dispatchers.channel", "presence.dispatchers.channel")]
    public void Should_read_the_manager_dispatcher(string setting, string? dispatcher)
    {
        Assert.Null(PresenceSettings.Create(Config.Empty).ManagerDispatcher);
        Assert.Equal(dispatcher, TestConfigs.Settings($"presence.manager-dispatcher = \"{setting}\"").ManagerDispatcher);
    }

    [Theory]
    [InlineData("presence.dispatchers.nope")]
    [InlineData("presence.ttl")]
    [InlineData("presence")]
    public void Should_reject_a_manager_dispatcher_that_names_no_dispatcher(string setting)
    {
        Assert.Equal("presence.manager-dispatcher", Rejected($"presence.manager-dispatcher = \"{setting}\"").Key);
    }

    [Theory]
    [InlineData("cli, probe ,backend", new[] { "backend", "cli", "probe" })]
    [InlineData("cli", new[] { "cli" })]
    [InlineData("", new string[0])]
    public void Should_accept_untracked_modes_as_a_comma_separated_string(string modes, string[] expected)
    {
        var settings = TestConfigs.Settings($"presence.untracked-modes = \"{modes}\"");

        Assert.Equal(expected, settings.UntrackedModes.Order());
    }

    [Theory]
    [InlineData("presence.ttl = banana", "presence.ttl")]
    [InlineData("presence.ttl = -1s", "presence.ttl")]
    [InlineData("presence.ttl = 0s", "presence.ttl")]
    [InlineData("presence.max-entries = 0", "presence.max-entries")]
    [InlineData("presence.max-entries = lots", "presence.max-entries")]
    [InlineData("presence.sweep-interval = 3m", "presence.sweep-interval")]
    [InlineData("presence.broadcast-interval = soon", "presence.broadcast-interval")]
    [InlineData("presence.ask-timeout = 0ms", "presence.ask-timeout")]
    public void Should_reject_an_invalid_value_naming_its_key(string hocon, string key)
    {
        var error = Rejected(hocon);

        Assert.Equal(key, error.Key);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_allow_a_sweep_of_exactly_half_the_ttl()
    {
        Assert.Equal(TimeSpan.FromMinutes(2), TestConfigs.Settings("presence { ttl = 4m, sweep-interval = 2m }").SweepInterval);
        Assert.Equal("presence.sweep-interval", Rejected("presence { ttl = 4m, sweep-interval = 121s }").Key);
    }

    [Fact]
    public void Should_keep_a_default_when_its_environment_variable_is_unset()
    {
        var hocon = HoconDefaults.ResolveEnvironmentOverrides(ShippedHocon, _ => null);
        var config = ConfigurationFactory.ParseString(hocon);

        Assert.Equal(TimeSpan.FromMinutes(5), config.GetTimeSpan("presence.ttl"));
        Assert.Equal(["cli"], config.GetStringList("presence.untracked-modes"));
    }

    [Fact]
    public void Should_let_a_set_environment_variable_override_its_default()
    {
        var environment = new Dictionary<string, string>
        {
            ["PRESENCE_TTL"] = "10m",
            ["PRESENCE_UNTRACKED_MODES"] = "cli,probe",
        };

        var hocon = HoconDefaults.ResolveEnvironmentOverrides(ShippedHocon, name => environment.GetValueOrDefault(name));
        var settings = PresenceSettings.Create(ConfigurationFactory.ParseString(hocon));

        Assert.Equal(TimeSpan.FromMinutes(10), settings.Ttl);
        Assert.Equal(["cli", "probe"], settings.UntrackedModes.Order());
    }
}
