using Akka.Configuration;
using Akka.DistributedData;
using Presence.Actors.Cluster;
using Presence.Actors.Hosting;
using Presence.Gateway;
using Xunit;

namespace Presence.Cluster.Tests.Units;

/// <summary>Cluster mode is opt-in: the options and environment that turn it on, and the defaults that leave a single node alone.</summary>
public sealed class ClusterOptionsSpecs
{
    private static PresenceClusterSettings FromArgs(params string[] args) =>
        PresenceClusterSettings.Create(GatewayCommandLine.GatewayConfig(args), GatewayApp.SystemName);

    [Fact]
    public void Should_stay_a_single_node_without_any_cluster_setting()
    {
        var settings = FromArgs("--port", "0");

        Assert.False(settings.Enabled);
        Assert.Empty(settings.Seeds);
    }

    [Fact]
    public void Should_turn_on_with_the_flag_and_take_repeated_seeds_as_host_port_or_full_addresses()
    {
        var settings = FromArgs("--cluster", "--cluster-port", "4054", "--seed", "127.0.0.1:4053", "--seed=akka.tcp://presence-gateway@10.0.0.2:4053", "--port", "0");

        Assert.True(settings.Enabled);
        Assert.Equal(4054, settings.Port);
        Assert.Equal(["akka.tcp://presence-gateway@127.0.0.1:4053", "akka.tcp://presence-gateway@10.0.0.2:4053"], settings.Seeds.ToArray());
        Assert.False(FromArgs("--cluster=off").Enabled);
    }

    [Fact]
    public void Should_read_comma_separated_seeds_and_the_hostname_as_the_environment_gives_them()
    {
        var hocon = HoconDefaults.ResolveEnvironmentOverrides(
            "presence.cluster { hostname = \"127.0.0.1\"\nhostname = ${?PRESENCE_CLUSTER_HOSTNAME}\nseeds = []\nseeds = ${?PRESENCE_CLUSTER_SEEDS}\n}",
            name => name switch { "PRESENCE_CLUSTER_SEEDS" => "gateway-a:4053, gateway-b:4053", "PRESENCE_CLUSTER_HOSTNAME" => "gateway-c", _ => null });

        var settings = PresenceClusterSettings.Create(ConfigurationFactory.ParseString(hocon), GatewayApp.SystemName);

        // Seeds alone mean cluster mode.
        Assert.True(settings.Enabled);
        Assert.Equal("gateway-c", settings.Hostname);
        Assert.Equal(["akka.tcp://presence-gateway@gateway-a:4053", "akka.tcp://presence-gateway@gateway-b:4053"], settings.Seeds.ToArray());
    }

    [Theory]
    [InlineData("--seed", "nohost")]
    [InlineData("--seed", "host:99999")]
    [InlineData("--cluster-port", "-1")]
    public void Should_refuse_an_invalid_value_naming_its_key(string option, string value)
    {
        var ex = Assert.Throws<PresenceSettingsException>(() => FromArgs(option, value));

        Assert.StartsWith("presence.cluster.", ex.Key, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_keep_the_node_bound_below_the_remote_frame_limit()
    {
        var defaults = PresenceClusterSettings.Create(Config.Empty, GatewayApp.SystemName);

        Assert.InRange(defaults.MaxNodeBytes, 1, PresenceClusterSettings.FrameLimitBytes - 8_000);
        Assert.Throws<PresenceSettingsException>(() => PresenceClusterSettings.Create(ConfigurationFactory.ParseString("presence.cluster.max-node-bytes = 200000"), GatewayApp.SystemName));
    }

    [Fact]
    public void Should_bootstrap_by_config_discovery_from_the_environment_and_let_seeds_win()
    {
        var hocon = HoconDefaults.ResolveEnvironmentOverrides(
            "presence.cluster { discovery = off\ndiscovery = ${?PRESENCE_CLUSTER_DISCOVERY}\ncontact-points = []\ncontact-points = ${?PRESENCE_CLUSTER_CONTACT_POINTS}\n}",
            name => name switch { "PRESENCE_CLUSTER_DISCOVERY" => "config", "PRESENCE_CLUSTER_CONTACT_POINTS" => "gateway-a:8558,gateway-b:8558,gateway-c:8558", _ => null });

        var settings = PresenceClusterSettings.Create(ConfigurationFactory.ParseString(hocon), GatewayApp.SystemName);

        // Discovery alone means cluster mode, and without seeds the node bootstraps.
        Assert.True(settings.Enabled);
        Assert.Equal(ClusterDiscovery.Config, settings.Discovery);
        Assert.True(settings.Bootstraps);
        Assert.Equal(["gateway-a:8558", "gateway-b:8558", "gateway-c:8558"], settings.ContactPoints.ToArray());
        Assert.False((settings with { Seeds = ["akka.tcp://presence-gateway@gateway-a:4053"] }).Bootstraps);
    }

    [Fact]
    public void Should_take_the_convergence_knobs_from_the_environment_through_the_shipped_hocon()
    {
        var environment = new Dictionary<string, string>
        {
            ["PRESENCE_CLUSTER_WRITE_CONSISTENCY"] = "majority",
            ["PRESENCE_CLUSTER_PUBLISH_INTERVAL"] = "20ms",
            ["PRESENCE_DDATA_GOSSIP_INTERVAL"] = "2s",
            ["PRESENCE_DDATA_NOTIFY_INTERVAL"] = "25ms",
        };
        var config = ConfigurationFactory.ParseString(HoconDefaults.ResolveEnvironmentOverrides(ShippedClusterHocon(), environment.GetValueOrDefault));

        var settings = PresenceClusterSettings.Create(config, GatewayApp.SystemName);
        var replicator = ReplicatorSettings.Create(config.GetConfig("akka.cluster.distributed-data"));

        Assert.Equal(ClusterWriteConsistency.Majority, settings.WriteConsistency);
        Assert.Equal(TimeSpan.FromMilliseconds(20), settings.PublishInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), replicator.GossipInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(25), replicator.NotifySubscribersInterval);
    }

    [Fact]
    public void Should_ship_direct_writes_to_every_node_and_a_50ms_notify_interval()
    {
        var config = ConfigurationFactory.ParseString(HoconDefaults.ResolveEnvironmentOverrides(ShippedClusterHocon(), _ => null));

        Assert.Equal(ClusterWriteConsistency.All, PresenceClusterSettings.Create(config, GatewayApp.SystemName).WriteConsistency);
        Assert.Equal(TimeSpan.FromMilliseconds(50), ReplicatorSettings.Create(config.GetConfig("akka.cluster.distributed-data")).NotifySubscribersInterval);
    }

    private static string ShippedClusterHocon()
    {
        using var stream = typeof(PresenceClusterSettings).Assembly.GetManifestResourceStream("cluster.hocon")!;
        return new StreamReader(stream).ReadToEnd();
    }

    [Theory]
    [InlineData("presence.cluster.write-consistency = quorum", "presence.cluster.write-consistency")]
    [InlineData("presence.cluster.publish-interval = 0ms", "presence.cluster.publish-interval")]
    public void Should_refuse_a_convergence_setting_it_cannot_apply(string hocon, string key)
    {
        var ex = Assert.Throws<PresenceSettingsException>(() => PresenceClusterSettings.Create(ConfigurationFactory.ParseString(hocon), GatewayApp.SystemName));

        Assert.Equal(key, ex.Key);
    }

    [Theory]
    [InlineData("presence.cluster.discovery = dns", "presence.cluster.discovery")]
    [InlineData("presence.cluster { discovery = config, contact-points = [\"a:8558\"] }", "presence.cluster.contact-points")]
    [InlineData("presence.cluster { discovery = config, contact-points = [\"a\", \"b:1\", \"c:2\"] }", "presence.cluster.contact-points")]
    [InlineData("presence.cluster.management-port = 0", "presence.cluster.management-port")]
    public void Should_refuse_a_discovery_setting_that_could_not_form_a_cluster(string hocon, string key)
    {
        var ex = Assert.Throws<PresenceSettingsException>(() => PresenceClusterSettings.Create(ConfigurationFactory.ParseString(hocon), GatewayApp.SystemName));

        Assert.Equal(key, ex.Key);
    }
}
