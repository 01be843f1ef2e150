using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// The Instances page in Chromium with <c>presence-gateway.instances</c>: a node tag per row and the node count in a
/// cluster, the presence key where it is not the instanceId, one request in flight whatever the events, and no tags
/// (and no request) from a gateway that does not list the method.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class InstancesPageOriginsSpecs(Browser browser)
{
    /// <summary>
    /// Wraps the page's WebSocket: counts the instances requests it sends, the presence events it gets and the most
    /// requests it ever had out at once, and holds the answers back while <c>__origins.hold</c> is set, so a spec
    /// decides when the gateway "answers". <c>hideMethod</c> removes the method from hello-ok, as an OpenClaw gateway would.
    /// </summary>
    private const string Recorder = """
        (hideMethod) => {
          const o = window.__origins = { sent: 0, answered: 0, maxInFlight: 0, events: 0, hold: false, held: [], ids: new Set() };
          window.__release = () => o.held.splice(0).forEach((deliver) => deliver());
          const Native = window.WebSocket;
          window.WebSocket = class extends Native {
            send(data) {
              const frame = JSON.parse(data);
              if (frame.method === 'presence-gateway.instances') {
                o.ids.add(frame.id);
                o.sent += 1;
                o.maxInFlight = Math.max(o.maxInFlight, o.sent - o.answered);
              }
              return super.send(data);
            }
            addEventListener(type, listener, options) {
              if (type !== 'message') return super.addEventListener(type, listener, options);
              return super.addEventListener(type, (event) => {
                const frame = JSON.parse(event.data);
                if (frame.type === 'event' && frame.event === 'presence') o.events += 1;
                if (hideMethod && frame.payload && frame.payload.features) {
                  frame.payload.features.methods = frame.payload.features.methods.filter((m) => m !== 'presence-gateway.instances');
                  return listener(new MessageEvent('message', { data: JSON.stringify(frame) }));
                }
                if (frame.type === 'res' && o.ids.has(frame.id)) {
                  const deliver = () => { o.answered += 1; listener(event); };
                  return o.hold ? o.held.push(deliver) : deliver();
                }
                return listener(event);
              }, options);
            }
          };
        }
        """;

    [Fact]
    public async Task Should_tag_each_row_with_its_node_and_count_the_nodes_in_a_cluster()
    {
        await using var cluster = await TwoGatewayCluster.StartAsync();
        await using var onA = await cluster.A.ConnectAndHandshakeAsync(Connects.UiNoDevice("Client-On-A"));
        await TwoGatewayCluster.InstancesUntilAsync(cluster.B, answer => TwoGatewayCluster.AllUp(answer, 2));
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(cluster.B);

        await page.WaitForAsync($"document.querySelector('#rows tr[data-key=\"client-on-a\"]')?.dataset.node === '{cluster.AddressA}'");
        await page.WaitForAsync("document.querySelector('#count-nodes').textContent === '2'");
        Assert.True(await page.VisibleAsync("#count-nodes-wrap"));
        Assert.Equal("nodes", await page.TextAsync("#count-nodes-word"));
        Assert.Equal(cluster.AddressA, await TagAsync(page, "client-on-a"));
        Assert.Equal(cluster.AddressA, await TagAsync(page, $"{TestGateway.SelfInstanceId}-a"));
        Assert.Equal(cluster.AddressB, await TagAsync(page, $"{TestGateway.SelfInstanceId}-b"));
        Assert.Equal(cluster.AddressB, await TagAsync(page, await page.OwnKeyAsync()));
        // Keyed by its instanceId: nothing more to say.
        Assert.True(await session.Page.EvaluateExpressionAsync<bool>("document.querySelector('#rows tr[data-key=\"client-on-a\"] .key').hidden"));
    }

    [Fact]
    public async Task Should_show_the_key_of_rows_keyed_otherwise_and_no_node_tags_on_a_gateway_alone()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var clients = await LookAlikeClients.ConnectAsync(gateway);
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway);

        await page.WaitForAsync("[...document.querySelectorAll('#rows tr .key')].filter((key) => !key.hidden).length === 3");
        var twinKeys = await session.Page.EvaluateExpressionAsync<string[]>(
            "[...document.querySelectorAll('#rows tr')].filter((tr) => tr.querySelector('td.host').textContent.startsWith('Twin-Host')).map((tr) => tr.querySelector('.key').textContent)");
        Assert.Equal(2, twinKeys.Length);
        // Keyed by their connections: the key tells the two look-alikes apart, as `instances` does.
        Assert.All(twinKeys, key => Assert.Matches("^[0-9a-f-]{36}$", key));
        Assert.NotEqual(twinKeys[0], twinKeys[1]);
        Assert.True(await session.Page.EvaluateExpressionAsync<bool>("document.querySelector('#rows tr[data-key=\"probe-ui-instance-1\"] .key').hidden"));
        Assert.Equal("1", await page.TextAsync("#count-nodes"));
        Assert.Equal("node", await page.TextAsync("#count-nodes-word"));
        Assert.Equal(0, await session.Page.EvaluateExpressionAsync<int>("[...document.querySelectorAll('#rows .node-tag')].filter((tag) => !tag.hidden).length"));
    }

    [Fact]
    public async Task Should_keep_one_instances_request_in_flight_and_send_one_more_after_a_burst_of_events()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var beacons = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        await using var session = await browser.NewPageAsync();
        await session.Page.EvaluateFunctionOnNewDocumentAsync(Recorder, false);
        await session.Page.EvaluateFunctionOnNewDocumentAsync("() => { window.__origins.hold = true; }");
        var page = new InstancesPageDriver(session.Page);
        await page.OpenAsync(gateway);
        await page.WaitForAsync("window.__origins.sent === 1");

        const int Burst = 5;
        for (var i = 0; i < Burst; i++)
            await beacons.BeaconAsync(new JsonObject { ["text"] = $"burst beacon {i}" });
        await page.WaitForAsync($"[...document.querySelectorAll('#rows tr')].some((tr) => tr.title === 'burst beacon {Burst - 1}')");

        // Every event of the burst came while the first answer was held back: none of them sent another request.
        Assert.True(await Origins<int>(page, "events") >= 1);
        Assert.Equal(1, await Origins<int>(page, "sent"));

        await session.Page.EvaluateExpressionAsync("window.__release()");
        await page.WaitForAsync("window.__origins.sent === 2");
        await session.Page.EvaluateExpressionAsync("window.__origins.hold = false; window.__release()");

        // The one request sent after the burst brings the last beacon's key.
        await page.WaitForAsync($"[...document.querySelectorAll('#rows tr')].some((tr) => tr.title === 'burst beacon {Burst - 1}' && tr.querySelector('.key').textContent === 'burst beacon {Burst - 1}')");
        Assert.Equal(2, await Origins<int>(page, "sent"));
        Assert.Equal(1, await Origins<int>(page, "maxInFlight"));
    }

    [Fact]
    public async Task Should_neither_ask_nor_tag_when_the_gateway_does_not_list_the_method()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var clients = await LookAlikeClients.ConnectAsync(gateway);
        await using var session = await browser.NewPageAsync();
        await session.Page.EvaluateFunctionOnNewDocumentAsync(Recorder, true);
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway);
        await page.WaitForAsync("document.querySelectorAll('#rows tr[data-duplicate-check]').length === 4");

        Assert.Equal(0, await Origins<int>(page, "sent"));
        Assert.False(await page.VisibleAsync("#count-nodes-wrap"));
        Assert.Equal(0, await session.Page.EvaluateExpressionAsync<int>("[...document.querySelectorAll('#rows .key, #rows .node-tag')].filter((e) => !e.hidden).length"));
    }

    private static Task<string> TagAsync(InstancesPageDriver page, string key) =>
        page.Page.EvaluateFunctionAsync<string>("key => document.querySelector(`#rows tr[data-key=\"${CSS.escape(key)}\"] .node-tag`).textContent", key);

    private static Task<T> Origins<T>(InstancesPageDriver page, string name) => page.Page.EvaluateExpressionAsync<T>($"window.__origins.{name}");
}
