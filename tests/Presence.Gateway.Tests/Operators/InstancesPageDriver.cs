using PuppeteerSharp;
using Presence.Gateway.Tests.Conformance;

namespace Presence.Gateway.Tests.Operators;

/// <summary>What one row of the page shows, cell by cell (the text of each cell without its badge or source).</summary>
public sealed record RenderedRow(
    string Key,
    string Status,
    string DataStatus,
    string Host,
    string Ip,
    string Version,
    string Device,
    string Mode,
    string LastInput,
    string Updated,
    string Source,
    string Title,
    bool Gateway,
    string Instance,
    string DuplicateCheck,
    string DuplicateWhy);

/// <summary>Drives the Instances page in a browser: opening it, waiting for rows, reading what it shows.</summary>
internal sealed class InstancesPageDriver(IPage page)
{
    private const string ReadRow = """
        key => {
          const tr = document.querySelector(`#rows tr[data-key="${CSS.escape(key)}"]`);
          if (!tr) return null;
          const text = name => [...tr.querySelector('td.' + name).childNodes]
            .filter(node => node.nodeType === Node.TEXT_NODE).map(node => node.data).join('').trim();
          return {
            key, status: text('status'), dataStatus: tr.dataset.status || '', host: text('host'), ip: text('ip'),
            version: text('version'), device: text('device'), mode: text('mode'), lastInput: text('last-input'),
            updated: tr.querySelector('td.updated').textContent, source: tr.querySelector('.source').textContent,
            title: tr.title, gateway: tr.classList.contains('gateway'), instance: text('instance'),
            duplicateCheck: tr.dataset.duplicateCheck || '', duplicateWhy: tr.querySelector('.dup').hidden ? '' : tr.querySelector('.dup').title,
          };
        }
        """;

    public IPage Page => page;

    /// <summary>Opens the page as an operator would, with the token in the fragment (or none).</summary>
    public async Task OpenAsync(TestGateway gateway, string? token = TestGateway.Token)
    {
        var url = token is null ? $"{gateway.OwnOrigin}/" : $"{gateway.OwnOrigin}/#token={Uri.EscapeDataString(token)}";
        await page.GoToAsync(url, WaitUntilNavigation.DOMContentLoaded);
    }

    public Task WaitForConnectedAsync() => page.WaitForSelectorAsync("#connection[data-state=\"connected\"]");

    public Task WaitForRowAsync(string key) => page.WaitForSelectorAsync($"#rows tr[data-key=\"{key}\"]");

    /// <summary>Waits until <paramref name="predicate"/>, a JavaScript expression, holds on the page.</summary>
    public Task WaitForAsync(string predicate) => page.WaitForExpressionAsync(predicate);

    public Task<RenderedRow?> RowAsync(string key) => page.EvaluateFunctionAsync<RenderedRow?>(ReadRow, key);

    public async Task<RenderedRow[]> RowsAsync()
    {
        var keys = await KeysAsync();
        var rows = new List<RenderedRow>();
        foreach (var key in keys)
            rows.Add((await RowAsync(key))!);
        return [.. rows];
    }

    public Task<string[]> KeysAsync() => page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#rows tr')].map(tr => tr.dataset.key)");

    public Task<string> TextAsync(string selector) => page.EvaluateFunctionAsync<string>("s => document.querySelector(s).textContent", selector);

    public Task<bool> VisibleAsync(string selector) => page.EvaluateFunctionAsync<bool>("s => { const e = document.querySelector(s); return !!e && !e.hidden && e.offsetParent !== null; }", selector);

    /// <summary>The key of the page's own row: it is an operator client too, tracked like any other.</summary>
    public Task<string> OwnKeyAsync() => page.EvaluateExpressionAsync<string>("sessionStorage.getItem('presence.instances.instanceId')");
}
