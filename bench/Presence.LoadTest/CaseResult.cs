namespace Presence.LoadTest;

/// <summary>A named figure of one case.</summary>
internal sealed record Metric(string Name, double Value, string Unit);

/// <summary>A behaviour assertion (the smoke test's only concern): all answered, every watcher reached, …</summary>
internal sealed record Check(string Name, bool Passed, string Detail);

/// <summary>Figures sampled over time (the soak's): named columns, one row per sample.</summary>
internal sealed record Series(IReadOnlyList<string> Columns, List<double[]> Rows);

/// <summary>One run of one scenario with fixed parameters: its figures and its behaviour checks.</summary>
internal sealed class CaseResult(string scenario, string name, IReadOnlyDictionary<string, string> parameters)
{
    public string Scenario { get; } = scenario;
    public string Name { get; } = name;
    public IReadOnlyDictionary<string, string> Parameters { get; } = parameters;
    public string Server { get; set; } = "";
    public List<Metric> Metrics { get; } = [];
    public List<Check> Checks { get; } = [];

    /// <summary>Samples over time, when the scenario takes them: whole in the JSON report, thinned in the Markdown one.</summary>
    public Series? Series { get; set; }

    public bool Passed => Checks.All(check => check.Passed);

    public void Metric(string name, double value, string unit) => Metrics.Add(new Metric(name, value, unit));

    public void Check(string name, bool passed, string detail) => Checks.Add(new Check(name, passed, detail));

    public double? Value(string name) => Metrics.LastOrDefault(m => m.Name == name)?.Value;
}
