using System.Globalization;

namespace Presence.LoadTest;

/// <summary>
/// <c>command --name value --flag</c> parsed by hand. Every number is range-checked
/// here, so that no scenario can be asked for an unbounded count or duration.
/// </summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values;
    private readonly HashSet<string> _read = [];

    private Options(string command, Dictionary<string, string?> values)
    {
        Command = command;
        _values = values;
    }

    public string Command { get; }

    /// <exception cref="UsageException">The arguments do not parse.</exception>
    public static Options Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].StartsWith('-'))
            throw new UsageException("missing command");
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"unexpected argument '{arg}'");
            var (name, inline) = arg.Split('=', 2) is [var n, var v] ? (n[2..], v) : (arg[2..], null);
            // A following token that is not an option is this option's value; otherwise it is a flag.
            var value = inline ?? (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null);
            values[name] = value;
        }
        return new Options(args[0], values);
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var value) && value is null or "true" or "1";
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var value) ? value : null;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text))
            return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"--{name} must be an integer in {min}..{max}");
        return value;
    }

    public TimeSpan Seconds(string name, double fallback, double min, double max)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text))
            return TimeSpan.FromSeconds(fallback);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"--{name} must be a number of seconds in {min}..{max}");
        return TimeSpan.FromSeconds(value);
    }

    /// <summary>Catches a mistyped option, which would otherwise silently run with a default.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(name => !_read.Contains(name)).ToList();
        if (unknown.Count > 0)
            throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(n => "--" + n))}");
    }
}

internal sealed class UsageException(string message) : Exception(message);
