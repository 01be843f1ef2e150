using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Presence.Actors.Domain;

namespace Presence.Gateway.Operators;

/// <summary>
/// How an operator view words a presence row. The terminal listing uses it directly, and the Instances
/// page receives the same thresholds and words in its configuration, so the two views never disagree.
/// </summary>
internal static class InstanceRows
{
    /// <summary>Short words for <c>reason</c>; a reason not listed is shown with its dashes as spaces.</summary>
    public static readonly FrozenDictionary<string, string> SourceWords = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["self"] = "self",
        ["connect"] = "connect",
        ["disconnect"] = "disconnect",
        ["node-connected"] = "node connect",
        ["node-disconnected"] = "node disconnect",
        ["periodic"] = "heartbeat",
        ["launch"] = "launch",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>"left 40s ago" for a departed row (its <c>ts</c> is when it left), else "40s ago".</summary>
    public static string Updated(TimeSpan age, string? reason) =>
        PresenceStatuses.IsDeparture(reason) ? "left " + Ago(age) : Ago(age);

    public static string Source(string? reason) =>
        string.IsNullOrEmpty(reason) ? "" : SourceWords.TryGetValue(reason, out var word) ? word : reason.Replace('-', ' ');

    /// <summary>"just now", "12s ago", "3m ago", "2h ago", "4d ago": coarse on purpose, as a desktop Instances tab shows it.</summary>
    public static string Ago(TimeSpan age)
    {
        var seconds = (long)Math.Max(0, age.TotalSeconds);
        return seconds switch
        {
            < 1 => "just now",
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds}s ago"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}m ago"),
            < 86400 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600}h ago"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 86400}d ago"),
        };
    }

    /// <summary>The settings the page reads from its <c>instances-config</c> element.</summary>
    public static string PageConfigJson(string version) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["version"] = version,
        ["activeMs"] = (long)PresenceStatuses.ActiveUpTo.TotalMilliseconds,
        ["idleMs"] = (long)PresenceStatuses.IdleUpTo.TotalMilliseconds,
        ["sources"] = SourceWords,
        ["departures"] = PresenceStatuses.DepartureReasons,
    });
}
