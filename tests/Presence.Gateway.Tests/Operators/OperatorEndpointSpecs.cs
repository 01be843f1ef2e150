using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Gateway.Connections;
using Presence.Gateway.Operators;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>The HTTP side of the gateway: the page's files, <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
public sealed partial class OperatorEndpointSpecs
{
    [Fact]
    public async Task Should_serve_the_instances_page_at_the_root_with_a_strict_content_security_policy()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = Http(gateway);

        using var response = await http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("connect-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await response.Content.ReadAsStringAsync();
        var config = JsonNode.Parse(ConfigElement().Match(html).Groups["json"].Value)!;
        Assert.Equal(120_000, (long)config["activeMs"]!);
        Assert.Equal(300_000, (long)config["idleMs"]!);
        Assert.Equal("heartbeat", (string?)config["sources"]!["periodic"]);
        Assert.Equal(GatewayApp.Version, (string?)config["version"]);
    }

    [Theory]
    [InlineData("/instances.js", "text/javascript")]
    [InlineData("/instances.css", "text/css")]
    public async Task Should_serve_the_page_assets_and_answer_304_when_unchanged(string path, string mediaType)
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = Http(gateway);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var revalidated = await http.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task Should_refuse_anything_but_get_and_head_on_the_page()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = Http(gateway);

        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent(""));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Should_report_liveness_of_the_actor_system_at_healthz()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = Http(gateway);

        var (status, body) = await GetJsonAsync(http, "/healthz");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", (string?)body["status"]);
        Assert.Equal("Healthy", (string?)body["checks"]!["akka.actorsystem"]!["status"]);
        // Liveness never depends on the presence manager: a busy manager must not get the process restarted.
        Assert.Null(body["checks"]!["presence"]);
    }

    [Fact]
    public async Task Should_be_ready_at_readyz_when_the_presence_manager_answers()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = Http(gateway);

        var (status, body) = await GetJsonAsync(http, "/readyz");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", (string?)body["status"]);
        Assert.Equal("Healthy", (string?)body["checks"]!["presence"]!["status"]);
        Assert.Equal("Healthy", (string?)body["checks"]!["akka.actorsystem"]!["status"]);
    }

    [Fact]
    public async Task Should_not_be_ready_while_the_connections_supervisor_is_missing()
    {
        var check = new PresenceReadinessCheck(new AnsweringQueries(), new ActorRegistry());

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("connections supervisor", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_not_be_ready_when_the_presence_manager_does_not_answer_in_time()
    {
        var registry = new ActorRegistry();
        registry.Register<ConnectionsSupervisorActor>(ActorRefs.Nobody);
        var check = new PresenceReadinessCheck(new SilentQueries(), registry);

        var result = await check.CheckHealthAsync(new HealthCheckContext()).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("did not answer", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_export_the_gateway_instruments_in_prometheus_text_format()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using (var refused = await gateway.ConnectAsync())
            await refused.SendConnectAsync(Connects.Backend(token: "not-the-secret"));
        await using var cli = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await cli.BeaconAsync(new JsonObject { ["text"] = "Node: metrics-box · app 1.0 · mode ui · reason periodic", ["instanceId"] = "metrics-box" });
        await mac.ReceivePresenceAsync(list => Frames.HasInstance(list, "metrics-box"));
        using var http = Http(gateway);

        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var metrics = await response.Content.ReadAsStringAsync();
        // Other tests run gateways in this process at the same time, and the instruments are process-wide: hence "at least".
        Assert.True(Sample(metrics, "presence_gateway_connections_open") >= 2, metrics);
        Assert.True(Sample(metrics, "presence_gateway_handshakes_total", "outcome=\"ok\"") >= 2, metrics);
        Assert.True(Sample(metrics, "presence_gateway_handshakes_total", "outcome=\"failed\"", "reason=\"auth_token_mismatch\"") >= 1, metrics);
        Assert.True(Sample(metrics, "presence_gateway_beacons_total") >= 1, metrics);
        // The manager's own meter: its rows and changes are recorded before the event the test waited for goes out.
        Assert.True(Sample(metrics, "presence_rows") >= 3, metrics);
        Assert.True(Sample(metrics, "presence_changes_total") >= 2, metrics);
        Assert.True(Sample(metrics, "presence_gateway_events_sent_total") >= 1, metrics);
        Assert.Contains("# TYPE presence_removals_total counter", metrics, StringComparison.Ordinal);
    }

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    internal static double Sample(string metrics, string name, params string[] labels) =>
        metrics.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    internal static HttpClient Http(TestGateway gateway) => new() { BaseAddress = new Uri(gateway.OwnOrigin), Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<(HttpStatusCode Status, JsonNode Body)> GetJsonAsync(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [GeneratedRegex("""<script id="instances-config" type="application/json">(?<json>.*?)</script>""", RegexOptions.Singleline)]
    private static partial Regex ConfigElement();

    private sealed class AnsweringQueries : IPresenceQueries
    {
        public Task<PresenceSnapshot> GetPresenceAsync(CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not asked when the supervisor is missing");
    }

    /// <summary>A manager that never answers: only the check's own timeout ends the wait.</summary>
    private sealed class SilentQueries : IPresenceQueries
    {
        public async Task<PresenceSnapshot> GetPresenceAsync(CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
