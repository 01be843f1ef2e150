using System.Collections.Immutable;
using Akka.Configuration;
using Presence.Actors.Hosting;

namespace Presence.Actors.Cluster;

/// <summary>
/// The <c>presence.cluster</c> section, read once and validated. Defaults live in
/// <c>hocon/cluster.hocon</c>, shipped inside this assembly with the Akka.Cluster tuning it needs.
/// </summary>
public sealed record PresenceClusterSettings(
    bool Enabled,
    string Hostname,
    int Port,
    ImmutableArray<string> Seeds,
    int MaxRowBytes,
    int MaxNodeBytes,
    TimeSpan PublishInterval)
{
    /// <summary>How peers are found when <see cref="Seeds"/> is empty; anything but off starts Cluster Bootstrap.</summary>
    public ClusterDiscovery Discovery { get; init; }

    public int ManagementPort { get; init; } = 8558;

    public string ServiceName { get; init; } = "presence-gateway";

    public int RequiredContactPoints { get; init; } = 3;

    /// <summary>For <see cref="ClusterDiscovery.Config"/>: every node's management endpoint as <c>host:port</c>.</summary>
    public ImmutableArray<string> ContactPoints { get; init; } = [];

    public string PodLabelSelector { get; init; } = "app=presence-gateway";

    /// <summary>
    /// How far a write to this node's key goes before the replicator moves on: <see cref="ClusterWriteConsistency.Local"/>
    /// leaves it to DData's delta gossip, the others send it to that many nodes at once.
    /// </summary>
    public ClusterWriteConsistency WriteConsistency { get; init; }

    /// <summary>Off: bootstrap only ever joins a running cluster.</summary>
    public bool NewClusterEnabled { get; init; } = true;

    /// <summary>Bootstrap runs only without seeds: a seed list, when given, is how the node joins.</summary>
    public bool Bootstraps => Seeds.IsEmpty && Discovery != ClusterDiscovery.Off;

    /// <summary>Akka.Remote's default <c>maximum-frame-size</c>: one node's key must always fit in it.</summary>
    public const int FrameLimitBytes = 128_000;

    private static readonly Lazy<Config> Defaults = new(() => HoconDefaults.Load(typeof(PresenceClusterSettings).Assembly, "cluster.hocon"));

    /// <summary>The shipped <c>cluster.hocon</c>, with its environment overrides resolved.</summary>
    public static Config DefaultConfig => Defaults.Value;

    /// <summary>Reads and checks <c>presence.cluster</c>; seeds given as <c>host:port</c> become addresses of <paramref name="systemName"/>.</summary>
    /// <exception cref="PresenceSettingsException">A value is invalid; the exception names its key.</exception>
    public static PresenceClusterSettings Create(Config config, string systemName)
    {
        if (!ReferenceEquals(config, DefaultConfig))
            config = config.WithFallback(DefaultConfig);
        var maxNodeBytes = Int(config, "presence.cluster.max-node-bytes", 1024, FrameLimitBytes - 8_000);
        var settings = new PresenceClusterSettings(
            Bool(config, "presence.cluster.enabled"),
            NonEmpty(config, "presence.cluster.hostname"),
            Int(config, "presence.cluster.port", 0, 65535),
            SeedAddresses(config, "presence.cluster.seeds", systemName),
            Int(config, "presence.cluster.max-row-bytes", 256, maxNodeBytes),
            maxNodeBytes,
            PresenceSettings.Positive(config, "presence.cluster.publish-interval"))
        {
            Discovery = DiscoveryMethod(config, "presence.cluster.discovery"),
            ManagementPort = Int(config, "presence.cluster.management-port", 1, 65535),
            ServiceName = NonEmpty(config, "presence.cluster.service-name"),
            RequiredContactPoints = Int(config, "presence.cluster.required-contact-points", 1, 1000),
            ContactPoints = HoconDefaults.StringList(config, "presence.cluster.contact-points").Select(point => ContactPoint(config, point)).ToImmutableArray(),
            PodLabelSelector = NonEmpty(config, "presence.cluster.pod-label-selector"),
            NewClusterEnabled = Bool(config, "presence.cluster.new-cluster-enabled"),
            WriteConsistency = Consistency(config, "presence.cluster.write-consistency"),
        };
        if (settings.Discovery == ClusterDiscovery.Config && settings.ContactPoints.Length < settings.RequiredContactPoints && settings.Seeds.IsEmpty)
            throw Invalid(config, "presence.cluster.contact-points", $"must list at least required-contact-points ({settings.RequiredContactPoints}) management endpoints for discovery = config");
        // Seeds or discovery alone mean cluster mode: there is nothing else they could be for.
        return settings.Seeds.IsEmpty && settings.Discovery == ClusterDiscovery.Off ? settings : settings with { Enabled = true };
    }

    private static ClusterDiscovery DiscoveryMethod(Config config, string key) =>
        config.GetString(key)?.Trim().ToLowerInvariant() switch
        {
            "off" or "" or null => ClusterDiscovery.Off,
            "config" => ClusterDiscovery.Config,
            "kubernetes" => ClusterDiscovery.Kubernetes,
            _ => throw Invalid(config, key, "must be off, config or kubernetes"),
        };

    private static ClusterWriteConsistency Consistency(Config config, string key) =>
        config.GetString(key)?.Trim().ToLowerInvariant() switch
        {
            "local" => ClusterWriteConsistency.Local,
            "majority" => ClusterWriteConsistency.Majority,
            "all" => ClusterWriteConsistency.All,
            _ => throw Invalid(config, key, "must be local, majority or all"),
        };

    private static string NonEmpty(Config config, string key) =>
        config.GetString(key) is { Length: > 0 } value ? value : throw Invalid(config, key, "must not be empty");

    private static string ContactPoint(Config config, string point)
    {
        var colon = point.LastIndexOf(':');
        return colon > 0 && int.TryParse(point[(colon + 1)..], out var port) && port is > 0 and <= 65535
            ? point
            : throw Invalid(config, "presence.cluster.contact-points", $"'{point}' is not host:management-port");
    }

    private static bool Bool(Config config, string key) =>
        config.GetString(key)?.Trim().ToLowerInvariant() switch
        {
            "on" or "true" or "yes" or "1" => true,
            "off" or "false" or "no" or "0" or "" or null => false,
            _ => throw Invalid(config, key, "must be on or off"),
        };

    private static int Int(Config config, string key, int min, int max) =>
        int.TryParse(config.GetString(key), out var value) && value >= min && value <= max
            ? value
            : throw Invalid(config, key, $"must be a whole number from {min} to {max}");

    private static ImmutableArray<string> SeedAddresses(Config config, string key, string systemName) =>
        HoconDefaults.StringList(config, key).Select(seed => SeedAddress(config, key, seed, systemName)).Distinct(StringComparer.Ordinal).ToImmutableArray();

    private static string SeedAddress(Config config, string key, string seed, string systemName)
    {
        // A full address keeps its own protocol (akka.tcp, or a transport adapter's such as akka.trttl.tcp).
        if (seed.Contains("://", StringComparison.Ordinal))
            return Uri.TryCreate(seed, UriKind.Absolute, out var uri) && uri.Scheme.StartsWith("akka", StringComparison.Ordinal) && uri.Port > 0 ? seed : throw Invalid(config, key, $"'{seed}' is not an address such as akka.tcp://{systemName}@host:4053");
        var colon = seed.LastIndexOf(':');
        return colon > 0 && int.TryParse(seed[(colon + 1)..], out var port) && port is > 0 and <= 65535
            ? $"akka.tcp://{systemName}@{seed}"
            : throw Invalid(config, key, $"'{seed}' is not host:port or akka.tcp://{systemName}@host:port");
    }

    private static PresenceSettingsException Invalid(Config config, string key, string rule) => PresenceSettings.Invalid(key, config, rule);
}

/// <summary>The <c>presence.cluster.discovery</c> methods.</summary>
public enum ClusterDiscovery
{
    Off,
    Config,
    Kubernetes,
}

/// <summary>The <c>presence.cluster.write-consistency</c> levels: which nodes a write to this node's key is sent to at once.</summary>
public enum ClusterWriteConsistency
{
    Local,
    Majority,
    All,
}
