using System.Globalization;
using System.Text.Json;
using Presence.Actors.Domain;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Presence.Gateway.Operators;

/// <summary>One presence row as the terminal listing shows it.</summary>
internal sealed record InstanceView(
    string InstanceId,
    string Host,
    string Ip,
    string Version,
    string Device,
    string Mode,
    long? LastInputSeconds,
    string? Reason,
    long Ts,
    bool IsGateway)
{
    public static InstanceView From(JsonElement entry)
    {
        string? Text(string name) => entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        long? Number(string name) => entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
        var device = string.Join(" · ", new[] { Text("deviceFamily"), Text("modelIdentifier"), Text("platform") }.Where(part => !string.IsNullOrEmpty(part)));
        return new InstanceView(
            Text("instanceId") ?? "",
            Text("host") ?? "",
            Text("ip") ?? "",
            Text("version") ?? "",
            device,
            Text("mode") ?? "",
            Number("lastInputSeconds"),
            Text("reason"),
            Number("ts") ?? 0,
            Text("mode") == "gateway" && Text("reason") == "self");
    }
}

/// <summary>
/// The table of <c>instances</c> (Spectre.Console): the same columns, order and words as the Instances page
/// (gateway first, then by host; status from the age of <c>ts</c> on the gateway's clock).
/// </summary>
internal static class InstancesTable
{
    /// <summary>Wide enough that a redirected table never wraps a cell: a pipe gets one row per line.</summary>
    private const int RedirectedWidth = 4096;

    private static readonly string[] Headers = ["STATUS", "HOST", "INSTANCE", "IP", "VERSION", "DEVICE", "MODE", "LAST INPUT", "UPDATED"];

    /// <summary>A console over <paramref name="terminal"/>: colours and cursor control on a terminal, plain text otherwise.</summary>
    public static IAnsiConsole Console(CommandLineConsole terminal)
    {
        var (output, interactive) = (terminal.Out, terminal.Interactive);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!interactive)
            console.Profile.Width = RedirectedWidth;
        else if (terminal.Width is { } width)
            console.Profile.Width = width;
        return console;
    }

    /// <param name="list">The presence list as the gateway sent it.</param>
    /// <param name="gatewayNow">Now on the gateway's clock.</param>
    /// <param name="decorated">A terminal: a rule under the headers; redirected, bare columns for grep and awk.</param>
    public static IRenderable Render(JsonElement list, long gatewayNow, bool decorated)
    {
        var views = Views(list);
        var lookAlikes = InstanceDoctor.Examine(views).Select(finding => finding.Row).ToHashSet();
        var rows = views.Select(row => Cells(row, gatewayNow, lookAlikes.Contains(row))).ToList();
        if (rows.Count == 0)
            return new Text("No instances." + Environment.NewLine);
        var table = new Table().Border(decorated ? TableBorder.Simple : TableBorder.None);
        foreach (var header in Headers)
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))).PadLeft(0).PadRight(2).NoWrap());
        table.Columns[^1].PadRight(0);
        foreach (var (cells, status) in rows)
            table.AddRow([new Text(cells[0], new Style(StatusColour(status))), .. cells[1..].Select(cell => new Text(cell))]);
        var counts = rows.GroupBy(row => row.Status).ToDictionary(group => group.Key, group => group.Count());
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} {(rows.Count == 1 ? "instance" : "instances")} · {counts.GetValueOrDefault(PresenceStatus.Active)} active · {counts.GetValueOrDefault(PresenceStatus.Left)} left · {counts.GetValueOrDefault(PresenceStatus.Idle)} idle · {counts.GetValueOrDefault(PresenceStatus.Stale)} stale");
        return new Rows(table, new Text(summary + Environment.NewLine));
    }

    /// <summary>The rows in the order every view shows them: the gateway first, then by host.</summary>
    public static List<InstanceView> Views(JsonElement list) => list.EnumerateArray()
        .Select(InstanceView.From)
        .OrderByDescending(row => row.IsGateway)
        .ThenBy(row => row.Host, StringComparer.OrdinalIgnoreCase)
        .ToList();

    /// <summary><c>instances --doctor</c>: each look-alike row with the check that applies and its fix, or that there are none.</summary>
    public static IRenderable RenderDoctor(JsonElement list)
    {
        var findings = InstanceDoctor.Examine(Views(list));
        if (findings.Count == 0)
            return new Text("No look-alike rows: every client has one row." + Environment.NewLine);
        var lines = findings.Select(finding =>
            $"{Dash(finding.Row.Host)} · instanceId {Dash(finding.Row.InstanceId)} · {Dash(finding.Row.Mode)} · {InstanceRows.Source(finding.Row.Reason)}{Environment.NewLine}" +
            $"  check {(int)finding.Check}: {finding.Explanation}{Environment.NewLine}");
        return new Text(string.Concat(lines));
    }

    private static (string[] Cells, PresenceStatus Status) Cells(InstanceView row, long gatewayNow, bool lookAlike)
    {
        var age = TimeSpan.FromMilliseconds(Math.Max(0, gatewayNow - row.Ts));
        var status = PresenceStatuses.Of(age, row.Reason);
        // lastInputSeconds was measured when the row was stamped, so the idle time has grown by the row's age since.
        var lastInput = row.LastInputSeconds is { } seconds ? InstanceRows.Ago(TimeSpan.FromSeconds(seconds) + age) : "—";
        var source = InstanceRows.Source(row.Reason);
        var updated = source.Length == 0 ? InstanceRows.Updated(age, row.Reason) : $"{InstanceRows.Updated(age, row.Reason)} · {source}";
        // A look-alike row is marked where the eye goes first; instances --doctor says why.
        string[] cells = [status.ToString(), lookAlike ? $"{Dash(row.Host)} (dup?)" : Dash(row.Host), Dash(row.InstanceId), Dash(row.Ip), Dash(row.Version), Dash(row.Device), Dash(row.Mode), lastInput, updated];
        return (cells, status);
    }

    private static string Dash(string value) => value.Length == 0 ? "—" : value;

    private static Color StatusColour(PresenceStatus status) => status switch
    {
        PresenceStatus.Active => Color.Green,
        PresenceStatus.Left => Color.Blue,
        PresenceStatus.Idle => Color.Yellow,
        _ => Color.Grey,
    };
}
