using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Presence.Gateway.Operators;

/// <summary>One presence row as the terminal listing shows it.</summary>
internal sealed record InstanceView(
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
/// The aligned table of <c>instances</c>: the same columns, order and words as the Instances page
/// (gateway first, then by host; status from the age of <c>ts</c> on the gateway's clock).
/// </summary>
internal static class InstancesTable
{
    private static readonly string[] Headers = ["STATUS", "HOST", "IP", "VERSION", "DEVICE", "MODE", "LAST INPUT", "UPDATED"];

    public static string Format(JsonElement list, long gatewayNow, bool color)
    {
        var rows = list.EnumerateArray()
            .Select(InstanceView.From)
            .OrderByDescending(row => row.IsGateway)
            .ThenBy(row => row.Host, StringComparer.OrdinalIgnoreCase)
            .Select(row => Cells(row, gatewayNow))
            .ToList();
        var text = new StringBuilder();
        if (rows.Count == 0)
            return text.AppendLine("No instances.").ToString();
        var widths = Headers.Select((header, i) => rows.Max(row => row.Cells[i].Length) is var longest && longest > header.Length ? longest : header.Length).ToArray();
        AppendLine(text, Headers, widths, status: null, color);
        foreach (var (cells, status) in rows)
            AppendLine(text, cells, widths, status, color);
        var counts = rows.GroupBy(row => row.Status).ToDictionary(group => group.Key, group => group.Count());
        text.Append(CultureInfo.InvariantCulture, $"{rows.Count} {(rows.Count == 1 ? "instance" : "instances")} · {counts.GetValueOrDefault(InstanceStatus.Active)} active · ")
            .Append(CultureInfo.InvariantCulture, $"{counts.GetValueOrDefault(InstanceStatus.Idle)} idle · {counts.GetValueOrDefault(InstanceStatus.Stale)} stale")
            .AppendLine();
        return text.ToString();
    }

    private static (string[] Cells, InstanceStatus Status) Cells(InstanceView row, long gatewayNow)
    {
        var age = TimeSpan.FromMilliseconds(Math.Max(0, gatewayNow - row.Ts));
        var status = InstanceRows.Status(age);
        // lastInputSeconds was measured when the row was stamped, so the idle time has grown by the row's age since.
        var lastInput = row.LastInputSeconds is { } seconds ? InstanceRows.Ago(TimeSpan.FromSeconds(seconds) + age) : "—";
        var source = InstanceRows.Source(row.Reason);
        var updated = source.Length == 0 ? InstanceRows.Ago(age) : $"{InstanceRows.Ago(age)} · {source}";
        string[] cells = [status.ToString(), Dash(row.Host), Dash(row.Ip), Dash(row.Version), Dash(row.Device), Dash(row.Mode), lastInput, updated];
        return (cells, status);
    }

    private static string Dash(string value) => value.Length == 0 ? "—" : value;

    private static void AppendLine(StringBuilder text, string[] cells, int[] widths, InstanceStatus? status, bool color)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            var last = i == cells.Length - 1;
            var cell = last ? cells[i] : cells[i].PadRight(widths[i]);
            if (i == 0 && color && status is { } known)
                cell = $"{Ansi(known)}{cell}\u001b[0m";
            text.Append(cell);
            if (!last)
                text.Append("  ");
        }
        text.AppendLine();
    }

    private static string Ansi(InstanceStatus status) => status switch
    {
        InstanceStatus.Active => "\u001b[32m",
        InstanceStatus.Idle => "\u001b[33m",
        _ => "\u001b[90m",
    };
}
