using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Presence.LoadTest;

/// <summary>A target of the issue's table against what one case measured.</summary>
internal sealed record TargetResult(string Figure, string Target, string Case, string Metric, double? Measured, string Unit, bool? Met, string Reference);

/// <summary>What the numbers were taken on; the load average says how noisy the shared machine was.</summary>
internal sealed record Machine(int Cores, string CpuModel, string Memory, string Runtime, string Os, string OpenFileLimit, string ToolCores, string LoadAverageStart)
{
    public string LoadAverageEnd { get; set; } = "";

    public static Machine Describe()
    {
        var cpuinfo = File.ReadAllLines("/proc/cpuinfo");
        var model = cpuinfo.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memory = File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim();
        var files = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal)) ?? "?";
        return new Machine(
            cpuinfo.Count(l => l.StartsWith("processor", StringComparison.Ordinal)),
            model,
            memory,
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            string.Join(' ', files.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(3).Take(2)),
            File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?",
            LoadAverage());
    }

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}

/// <summary>Every case of one run, written as JSON (all figures) and Markdown (the target table, then each case).</summary>
internal sealed class Report(string command, Machine machine)
{
    /// <summary>NaN stands for "no sample" (a percentile of nothing) and must still serialise.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string Command { get; } = command;
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;
    public Machine Machine { get; } = machine;

    /// <summary>Which gateway build was measured (its dll's time and hash), when the tool started it.</summary>
    public string Gateway { get; set; } = "";
    public List<CaseResult> Cases { get; } = [];
    public List<TargetResult> Targets { get; } = [];

    public void Add(CaseSpec spec, CaseResult result)
    {
        Cases.Add(result);
        foreach (var target in spec.Targets)
        {
            var measured = result.Value(target.Metric);
            bool? met = measured is { } value && !double.IsNaN(value) ? (target.AtMost ? value <= target.Bound : value >= target.Bound) : null;
            var unit = result.Metrics.LastOrDefault(m => m.Name == target.Metric)?.Unit ?? "";
            Targets.Add(new TargetResult(target.Figure, target.Target, result.Name, target.Metric, measured, unit, met, target.Reference));
        }
    }

    public async Task<(string Json, string Markdown)> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, $"loadtest-{Started:yyyyMMdd-HHmmss}");
        await File.WriteAllTextAsync(stem + ".json", JsonSerializer.Serialize(this, JsonOptions)).ConfigureAwait(false);
        await File.WriteAllTextAsync(stem + ".md", ToMarkdown()).ConfigureAwait(false);
        return (stem + ".json", stem + ".md");
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine(c, $"# Load test {Started:yyyy-MM-dd HH:mm:ss} UTC").AppendLine();
        md.AppendLine(c, $"Command: `{Command}`").AppendLine();
        md.AppendLine(c, $"Machine: {Machine.Cores} cores, {Machine.CpuModel}, {Machine.Memory} RAM, {Machine.Runtime}, {Machine.Os}; open files {Machine.OpenFileLimit}; load tool on core(s) {Machine.ToolCores}; load average {Machine.LoadAverageStart} at start, {Machine.LoadAverageEnd} at end.").AppendLine();
        if (Gateway.Length > 0)
            md.AppendLine(c, $"Gateway under test: {Gateway}.").AppendLine();
        if (Targets.Count > 0)
        {
            md.AppendLine("| figure | target | measured | met | reference | case |");
            md.AppendLine("|---|---|---|---|---|---|");
            foreach (var t in Targets)
            {
                var met = t.Met switch { true => "met", false => "**not met**", null => "not measured" };
                md.AppendLine(c, $"| {t.Figure} | {t.Target} | {Format(t.Measured)} {t.Unit} | {met} | {t.Reference} | {t.Case} |");
            }
            md.AppendLine();
        }
        foreach (var result in Cases)
        {
            md.AppendLine(c, $"## {result.Name}").AppendLine();
            md.AppendLine(c, $"Scenario `{result.Scenario}`, {string.Join(", ", result.Parameters.Select(p => $"{p.Key} {p.Value}"))}; {result.Server}.").AppendLine();
            md.AppendLine("| metric | value |");
            md.AppendLine("|---|---|");
            foreach (var metric in result.Metrics)
                md.AppendLine(c, $"| {metric.Name} | {Format(metric.Value)} {metric.Unit} |");
            md.AppendLine();
            if (result.Series is { Rows.Count: > 0 } series)
                AppendSeries(md, series);
            foreach (var check in result.Checks)
                md.AppendLine(c, $"- {(check.Passed ? "✔" : "✘")} {check.Name}: {check.Detail}");
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>At most <see cref="SeriesRowsShown"/> evenly spaced samples, the first and the last included; the JSON has them all.</summary>
    private static void AppendSeries(StringBuilder md, Series series)
    {
        md.AppendLine(CultureInfo.InvariantCulture, $"| {string.Join(" | ", series.Columns)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"|{string.Concat(series.Columns.Select(_ => "---|"))}");
        var shown = Math.Min(SeriesRowsShown, series.Rows.Count);
        var indices = Enumerable.Range(0, shown).Select(i => shown == 1 ? 0 : (int)Math.Round(i * (series.Rows.Count - 1) / (double)(shown - 1))).Distinct();
        foreach (var row in indices.Select(i => series.Rows[i]))
            md.AppendLine(CultureInfo.InvariantCulture, $"| {string.Join(" | ", row.Select(v => Format(v)))} |");
        md.AppendLine();
    }

    private const int SeriesRowsShown = 25;

    internal static string Format(double? value) => value switch
    {
        null => "—",
        { } v when double.IsNaN(v) => "—",
        { } v when Math.Abs(v) >= 1000 => v.ToString("#,0", CultureInfo.InvariantCulture),
        { } v when Math.Abs(v) >= 10 => v.ToString("0.0", CultureInfo.InvariantCulture),
        { } v when v == Math.Round(v) => v.ToString("0", CultureInfo.InvariantCulture),
        { } v => v.ToString("0.00", CultureInfo.InvariantCulture),
    };
}
