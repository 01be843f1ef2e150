using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace Presence.Gateway.Operators;

/// <summary>Active, Idle or Stale, from the age of a row's <c>ts</c> (presence-rules.md, "Consumers and events").</summary>
internal enum InstanceStatus
{
    Active,
    Idle,
    Stale,
}

/// <summary>
/// How an operator view words a presence row. The terminal listing uses it directly, and the Instances
/// page receives the same thresholds and words in its configuration, so the two views never disagree.
/// </summary>
internal static class InstanceRows
{
    public static readonly TimeSpan ActiveUpTo = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan IdleUpTo = TimeSpan.FromSeconds(300);

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

    public static InstanceStatus Status(TimeSpan age) =>
        age <= ActiveUpTo ? InstanceStatus.Active : age <= IdleUpTo ? InstanceStatus.Idle : InstanceStatus.Stale;

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
        ["activeMs"] = (long)ActiveUpTo.TotalMilliseconds,
        ["idleMs"] = (long)IdleUpTo.TotalMilliseconds,
        ["sources"] = SourceWords,
    });
}
