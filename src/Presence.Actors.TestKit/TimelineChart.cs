using ScottPlot;

namespace Presence.Actors.TestKit;

/// <summary>The timeline as a chart: rows by status on the left axis, presence events per minute on the right.</summary>
internal static class TimelineChart
{
    public static void Write(PresenceSimulationResult result, string path, string? title)
    {
        var samples = result.Timeline;
        var hours = result.Duration >= TimeSpan.FromHours(2);
        var xs = samples.Select(sample => hours ? sample.At.TotalHours : sample.At.TotalMinutes).ToArray();
        var plot = new Plot();
        plot.Title(title ?? $"{result.Clients.Connects:N0} connects, {result.Clients.Beacons:N0} beacons over {result.Duration:g} of virtual time");
        plot.XLabel(hours ? "virtual time (hours)" : "virtual time (minutes)");
        plot.YLabel("rows");
        foreach (var (label, color, counts) in new[]
                 {
                     ("Active", Colors.ForestGreen, samples.Select(sample => (double)sample.Active)),
                     ("Idle", Colors.Orange, samples.Select(sample => (double)sample.Idle)),
                     ("Stale", Colors.Gray, samples.Select(sample => (double)sample.Stale)),
                     ("Left", Colors.SteelBlue, samples.Select(sample => (double)sample.Left)),
                 })
        {
            var line = plot.Add.ScatterLine(xs, counts.ToArray(), color);
            line.LegendText = label;
            line.LineWidth = 2;
        }
        var perMinute = samples.Select((sample, i) =>
            i == 0 ? 0 : sample.PresenceEvents / Math.Max(1e-9, (sample.At - samples[i - 1].At).TotalMinutes)).ToArray();
        var events = plot.Add.ScatterLine(xs, perMinute, Colors.Crimson.WithAlpha(0.6));
        events.LegendText = "presence events / min (right)";
        events.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "presence events per minute";
        plot.Axes.SetLimitsY(0, Math.Max(1, samples.Max(sample => sample.List.Entries.Length)) * 1.1, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(1, perMinute.DefaultIfEmpty(0).Max()) * 1.1, plot.Axes.Right);
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.ShowLegend();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        plot.SaveSvg(path, 900, 480);
    }
}
