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
    /// <summary>The row's presence key, from <c>presence-gateway.instances</c>; empty when unknown or a gateway's own row.</summary>
    public string Key { get; init; } = "";

    /// <summary>The node that owns the row (<c>host:port</c> in a cluster), from <c>presence-gateway.instances</c>; empty when unknown.</summary>
    public string Node { get; init; } = "";

    /// <summary>The entry's <c>text</c>, which tells apart rows without an instanceId written in the same millisecond.</summary>
    public string EntryText { get; init; } = "";

    /// <summary>The key says something the instance id does not: the row is keyed by a device, a connection, a host…</summary>
    public bool KeyDiffers => Key.Length > 0 && !string.Equals(Key, InstanceId.Trim(), StringComparison.OrdinalIgnoreCase);

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
            Text("mode") == "gateway" && Text("reason") == "self") { EntryText = Text("text") ?? "" };
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

    private static readonly string[] Headers = ["STATUS", "HOST", "INSTANCE", "KEY", "IP", "VERSION", "DEVICE", "MODE", "LAST INPUT", "UPDATED", "NODE"];

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
    /// <param name="instances">The gateway's answer to <c>presence-gateway.instances</c>, when it has that method.</param>
    public static IRenderable Render(JsonElement list, long gatewayNow, bool decorated, JsonElement? instances = null)
    {
        var views = Views(list, instances);
        var lookAlikes = InstanceDoctor.Examine(views).Select(finding => finding.Row).ToHashSet();
        var rows = views.Select(row => Cells(row, gatewayNow, lookAlikes.Contains(row))).ToList();
        if (rows.Count == 0)
            return new Text("No instances." + Environment.NewLine);
        // KEY only when some row's key says more than its instanceId; NODE only in a cluster, where it tells rows apart.
        var nodes = instances is { } answer ? NodeCount(answer, views) : 1;
        var shown = Enumerable.Range(0, Headers.Length)
            .Where(column => Headers[column] switch { "KEY" => views.Any(row => row.KeyDiffers), "NODE" => nodes > 1, _ => true })
            .ToArray();
        var table = new Table().Border(decorated ? TableBorder.Simple : TableBorder.None);
        foreach (var column in shown)
            table.AddColumn(new TableColumn(new Text(Headers[column], new Style(decoration: Decoration.Bold))).PadLeft(0).PadRight(2).NoWrap());
        table.Columns[^1].PadRight(0);
        foreach (var (cells, status) in rows)
            table.AddRow([new Text(cells[0], new Style(StatusColour(status))), .. shown[1..].Select(column => new Text(cells[column]))]);
        var counts = rows.GroupBy(row => row.Status).ToDictionary(group => group.Key, group => group.Count());
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} {(rows.Count == 1 ? "instance" : "instances")} · {counts.GetValueOrDefault(PresenceStatus.Active)} active · {counts.GetValueOrDefault(PresenceStatus.Left)} left · {counts.GetValueOrDefault(PresenceStatus.Idle)} idle · {counts.GetValueOrDefault(PresenceStatus.Stale)} stale");
        if (nodes > 1)
            summary += string.Create(CultureInfo.InvariantCulture, $" · {nodes} nodes");
        return new Rows(table, new Text(summary + Environment.NewLine));
    }

    /// <summary>The rows in the order every view shows them: the gateway first, then by host; with their keys and nodes when <paramref name="instances"/> is given.</summary>
    public static List<InstanceView> Views(JsonElement list, JsonElement? instances = null)
    {
        var views = list.EnumerateArray()
            .Select(InstanceView.From)
            .OrderByDescending(row => row.IsGateway)
            .ThenBy(row => row.Host, StringComparer.OrdinalIgnoreCase)
            .ToList();
        return instances is { } answer ? WithOrigins(views, answer) : views;
    }

    /// <summary>
    /// <c>instances --nodes</c>: the cluster's members (a gateway alone: itself), each with its status, whether the
    /// asked node reaches it, and how many rows of the list it owns.
    /// </summary>
    public static IRenderable RenderNodes(JsonElement list, JsonElement instances, bool decorated)
    {
        var owned = Views(list, instances).GroupBy(row => row.Node).ToDictionary(group => group.Key, group => group.Count());
        var table = new Table().Border(decorated ? TableBorder.Simple : TableBorder.None);
        foreach (var header in new[] { "NODE", "STATUS", "REACHABLE", "ROWS" })
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))).PadLeft(0).PadRight(2).NoWrap());
        table.Columns[^1].PadRight(0);
        var members = instances.GetProperty("nodes").EnumerateArray()
            .Select(node => (Address: Text(node, "address"), Status: Text(node, "status"), Reachable: node.TryGetProperty("reachable", out var reachable) && reachable.ValueKind == JsonValueKind.True))
            .ToList();
        foreach (var (address, status, reachable) in members)
        {
            var colour = !reachable ? Color.Red : status == "up" ? Color.Green : Color.Yellow;
            table.AddRow(new Text(address), new Text(status, new Style(colour)), new Text(reachable ? "yes" : "no"), new Text(owned.GetValueOrDefault(address).ToString(CultureInfo.InvariantCulture)));
        }
        var up = members.Count(member => member.Status == "up");
        var unreachable = members.Count(member => !member.Reachable);
        var summary = string.Create(CultureInfo.InvariantCulture, $"{members.Count} {(members.Count == 1 ? "node" : "nodes")} · {up} up · {unreachable} unreachable");
        return new Rows(table, new Text(summary + Environment.NewLine));
    }

    /// <summary>
    /// Gives each row its key and node from the answer's rows: the one with the same instanceId (case-insensitively, or
    /// both without) and the same <c>ts</c>, else the nearest <c>ts</c> (a live connection's row is renewed without an
    /// event, so it may have moved on since the list was sent); among those, one with the same text first, since rows
    /// without an instanceId written in the same millisecond differ by nothing else. The Instances page pairs them the
    /// same way (instances.js).
    /// </summary>
    private static List<InstanceView> WithOrigins(List<InstanceView> views, JsonElement instances)
    {
        var origins = instances.GetProperty("rows").EnumerateArray()
            .Select(row => (Key: Text(row, "key"), Node: Text(row, "node"), Ts: row.TryGetProperty("ts", out var ts) && ts.TryGetInt64(out var value) ? value : 0, Instance: Text(row, "instanceId").ToLowerInvariant(), Text: Text(row, "text")))
            .ToList();
        var taken = new bool[origins.Count];
        var paired = new int[views.Count];
        Array.Fill(paired, -1);
        foreach (var exact in new[] { true, false })
        {
            for (var i = 0; i < views.Count; i++)
            {
                if (paired[i] >= 0)
                    continue;
                var instance = views[i].InstanceId.ToLowerInvariant();
                var view = views[i];
                (int, long) Distance(int j) => (origins[j].Text == view.EntryText ? 0 : 1, Math.Abs(origins[j].Ts - view.Ts));
                var best = -1;
                for (var j = 0; j < origins.Count; j++)
                {
                    if (taken[j] || origins[j].Instance != instance || (exact && origins[j].Ts != views[i].Ts))
                        continue;
                    if (best < 0 || Distance(j).CompareTo(Distance(best)) < 0)
                        best = j;
                }
                if (best >= 0)
                {
                    taken[best] = true;
                    paired[i] = best;
                }
            }
        }
        return views.Select((view, i) => paired[i] < 0 ? view : view with { Key = origins[paired[i]].Key, Node = origins[paired[i]].Node }).ToList();
    }

    /// <summary>Nodes the listing spans: the members, and any node still owning rows after it left.</summary>
    private static int NodeCount(JsonElement instances, List<InstanceView> views) =>
        instances.GetProperty("nodes").EnumerateArray().Select(node => Text(node, "address"))
            .Concat(views.Select(row => row.Node).Where(node => node.Length > 0))
            .Distinct(StringComparer.Ordinal)
            .Count();

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

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
        // The key is shown where it says more than the instance id; "—" where it does not.
        string[] cells = [status.ToString(), lookAlike ? $"{Dash(row.Host)} (dup?)" : Dash(row.Host), Dash(row.InstanceId), row.KeyDiffers ? row.Key : "—", Dash(row.Ip), Dash(row.Version), Dash(row.Device), Dash(row.Mode), lastInput, updated, Dash(row.Node)];
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
