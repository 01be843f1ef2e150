using System.Globalization;
using System.Text.RegularExpressions;

namespace Presence.Actors.Domain;

/// <summary>
/// Fields parsed from the beacon text form
/// <c>Node: &lt;host&gt; (&lt;ip&gt;) · app &lt;version&gt; · last input &lt;N&gt;s ago · mode &lt;mode&gt; · reason &lt;reason&gt;</c>.
/// </summary>
public sealed record BeaconText(string Host, string Ip, string Version, long? LastInputSeconds, string Mode, string Reason)
{
    /// <summary>
    /// The pattern of the OpenClaw gateway, so that the same texts match; it is not anchored at the start.
    /// The non-backtracking engine matches in linear time, so no input can stall it and no timeout
    /// (which a loaded machine could trip on an honest beacon) is needed.
    /// </summary>
    private static readonly Regex Pattern = new(
        @"Node:\s*([^ (]+)\s*\(([^)]+)\)\s*·\s*app\s*([^·]+?)\s*·\s*last input\s*([0-9]+)s ago\s*·\s*mode\s*([^·]+?)\s*·\s*reason\s*(.+)$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    public static BeaconText? Parse(string text)
    {
        var match = Pattern.Match(text.Trim());
        if (!match.Success)
            return null;
        // Digits beyond long's range are not a believable idle time; keep the rest of the parse.
        long? lastInput = long.TryParse(match.Groups[4].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
        return new BeaconText(
            match.Groups[1].Value.Trim(),
            match.Groups[2].Value.Trim(),
            match.Groups[3].Value.Trim(),
            lastInput,
            match.Groups[5].Value.Trim(),
            match.Groups[6].Value.Trim());
    }
}
