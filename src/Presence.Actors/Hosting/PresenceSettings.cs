using System.Collections.Immutable;
using Akka.Configuration;
using Presence.Actors.Domain;

namespace Presence.Actors.Hosting;

/// <summary>
/// The <c>presence</c> section of the configuration, read once and validated.
/// Defaults live in <c>hocon/presence.hocon</c>, shipped inside this assembly.
/// </summary>
public sealed record PresenceSettings(
    TimeSpan Ttl,
    int MaxEntries,
    ImmutableHashSet<string> UntrackedModes,
    TimeSpan SweepInterval,
    TimeSpan BroadcastInterval,
    TimeSpan AskTimeout,
    TimeSpan RenewalBroadcastInterval)
{
    private static readonly Lazy<Config> Defaults = new(() => HoconDefaults.Load(typeof(PresenceSettings).Assembly, "presence.hocon"));

    /// <summary>The shipped <c>presence.hocon</c>, with its environment overrides resolved.</summary>
    public static Config DefaultConfig => Defaults.Value;

    /// <summary>The dispatcher the <c>presence-manager</c> runs on; null for Akka's default (<c>presence.manager-dispatcher</c>).</summary>
    public string? ManagerDispatcher { get; init; }

    public PresenceLimits Limits => new((long)Ttl.TotalMilliseconds, MaxEntries, (long)RenewalBroadcastInterval.TotalMilliseconds);

    /// <summary>Reads and checks the <c>presence</c> section; an invalid value throws an exception that names its key.</summary>
    public static PresenceSettings Create(Config config)
    {
        // Akka refuses a config as its own fallback, and the defaults may be passed in as they are.
        if (!ReferenceEquals(config, DefaultConfig))
            config = config.WithFallback(DefaultConfig);
        var ttl = Positive(config, "presence.ttl");
        var sweep = Positive(config, "presence.sweep-interval");
        if (sweep > ttl / 2)
            throw Invalid("presence.sweep-interval", config, $"must be at most half of presence.ttl ({ttl})");
        return new PresenceSettings(
            ttl,
            AtLeastOne(config, "presence.max-entries"),
            Modes(config, "presence.untracked-modes"),
            sweep,
            Positive(config, "presence.broadcast-interval"),
            Positive(config, "presence.ask-timeout"),
            Positive(config, "presence.renewal-broadcast-interval"))
        {
            ManagerDispatcher = HoconDefaults.TryDispatcher(config, "presence.manager-dispatcher", out var dispatcher, out var rule)
                ? dispatcher
                : throw Invalid("presence.manager-dispatcher", config, rule),
        };
    }

    internal static TimeSpan Positive(Config config, string key) =>
        HoconDefaults.PositiveDuration(config, key, out var rule) ?? throw Invalid(key, config, rule);

    private static int AtLeastOne(Config config, string key)
    {
        var raw = config.GetString(key);
        return int.TryParse(raw, out var value) && value >= 1
            ? value
            : throw Invalid(key, config, "must be a whole number of at least 1 (the gateway's own row counts)");
    }

    private static ImmutableHashSet<string> Modes(Config config, string key) => HoconDefaults.StringList(config, key).ToImmutableHashSet(StringComparer.Ordinal);

    internal static PresenceSettingsException Invalid(string key, Config config, string rule)
    {
        string? raw;
        try
        {
            raw = config.GetString(key);
        }
        catch (Exception ex) when (ex is ConfigurationException or InvalidOperationException)
        {
            raw = null;
        }
        return new PresenceSettingsException($"Invalid configuration {key} = '{raw}': {rule}.", key);
    }
}

/// <summary>A configuration value is invalid; <see cref="Key"/> names it.</summary>
public sealed class PresenceSettingsException(string message, string key) : Exception(message)
{
    public string Key { get; } = key;
}
