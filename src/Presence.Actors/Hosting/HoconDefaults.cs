using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Configuration;

namespace Presence.Actors.Hosting;

/// <summary>Loads a shipped HOCON defaults file, with its <c>${?ENV_VAR}</c> overrides applied from the environment.</summary>
public static partial class HoconDefaults
{
    /// <summary>Reads the embedded resource <paramref name="name"/> of <paramref name="assembly"/> with the process environment applied.</summary>
    public static Config Load(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(ResolveEnvironmentOverrides(reader.ReadToEnd(), Environment.GetEnvironmentVariable));
    }

    /// <summary>
    /// Resolves each <c>key = ${?ENV_VAR}</c> line before parsing: Akka's HOCON parser turns an unset optional
    /// substitution into an empty value (instead of keeping the value set before it, as HOCON specifies),
    /// which would wipe every default. An unset variable drops the line; a set one becomes a quoted string.
    /// </summary>
    public static string ResolveEnvironmentOverrides(string hocon, Func<string, string?> environment) =>
        EnvironmentOverride().Replace(hocon, line => environment(line.Groups["var"].Value) is { } value
            ? line.Groups["assign"].Value + JsonSerializer.Serialize(value)
            : "");

    /// <summary>A HOCON list, or a comma-separated string as an environment variable gives it; blank items dropped.</summary>
    public static IEnumerable<string> StringList(Config config, string key)
    {
        var value = config.GetValue(key);
        var items = value is not null && value.IsArray()
            ? config.GetStringList(key)
            : (config.GetString(key) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Select(item => item.Trim()).Where(item => item.Length > 0);
    }

    /// <summary>
    /// Reads a duration that must be greater than zero; null, with the rule it broke in <paramref name="rule"/>,
    /// when it is not one. Each settings record wraps that rule in its own exception, naming the key.
    /// </summary>
    public static TimeSpan? PositiveDuration(Config config, string key, out string rule)
    {
        rule = "";
        TimeSpan value;
        try
        {
            value = config.GetTimeSpan(key, allowInfinite: false);
        }
        catch (Exception ex) when (ex is FormatException or ConfigurationException or OverflowException or ArgumentException)
        {
            rule = "must be a duration such as 5m, 10s or 250ms";
            return null;
        }
        if (value > TimeSpan.Zero)
            return value;
        rule = "must be greater than zero";
        return null;
    }

    /// <summary>
    /// A dispatcher setting: <c>default</c> (Akka's default dispatcher, returned as null) or the path of a
    /// dispatcher section in the configuration, e.g. <c>presence.dispatchers.pinned</c>; null with a
    /// <paramref name="rule"/> when the path names no dispatcher.
    /// </summary>
    public static bool TryDispatcher(Config config, string key, out string? dispatcher, out string rule)
    {
        rule = "";
        dispatcher = config.GetString(key);
        if (dispatcher is null or "default")
        {
            dispatcher = null;
            return true;
        }
        if (config.HasPath(dispatcher) && (config.HasPath(dispatcher + ".type") || config.HasPath(dispatcher + ".executor")))
            return true;
        rule = "must be default or the path of a dispatcher section (one with a type or an executor), e.g. presence.dispatchers.pinned";
        dispatcher = null;
        return false;
    }

    [GeneratedRegex(@"^(?<assign>[ \t]*[A-Za-z0-9_.-]+[ \t]*[=:][ \t]*)\$\{\?(?<var>[A-Za-z_][A-Za-z0-9_]*)\}[ \t\r]*$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentOverride();
}
