using System.Text;
using System.Text.Json.Nodes;
using Presence.Gateway.Operators;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary><c>Presence.Gateway instances</c> against a real in-process gateway.</summary>
public sealed class InstancesCommandSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Should_print_an_aligned_table_with_the_gateway_first_and_without_itself()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());

        var (code, output, error) = await RunAsync(gateway, "--token", TestGateway.Token);

        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToArray();
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("STATUS  ", lines[0], StringComparison.Ordinal);
        Assert.Contains(TestGateway.SelfHost, lines[1], StringComparison.Ordinal);
        Assert.EndsWith(" · self", lines[1], StringComparison.Ordinal);
        Assert.Contains("Probe-UI-Host", lines[2], StringComparison.Ordinal);
        Assert.Contains("Mac · Mac15,3 · macos 15.1", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(" · connect", lines[2], StringComparison.Ordinal);
        Assert.All(lines[1..3], line => Assert.StartsWith("Active  ", line, StringComparison.Ordinal));
        // Aligned: every column starts where its header does.
        foreach (var header in new[] { "HOST", "IP", "VERSION", "DEVICE", "MODE", "LAST INPUT", "UPDATED" })
        {
            var column = lines[0].IndexOf(header, StringComparison.Ordinal);
            Assert.All(lines[1..3], line => Assert.Equal(' ', line[column - 1]));
        }
        Assert.Equal("2 instances · 2 active · 0 idle · 0 stale", lines[3]);
    }

    [Fact]
    public async Task Should_print_the_raw_presence_list_as_json()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());

        var (code, output, error) = await RunAsync(gateway, "--token", TestGateway.Token, "--json");

        Assert.True(code == 0, error);
        var list = Assert.IsType<JsonArray>(JsonNode.Parse(output));
        Assert.Equal(2, list.Count);
        Assert.Equal("self", (string?)list[0]!["reason"]);
        Assert.Equal(TestGateway.SelfInstanceId, (string?)list[0]!["instanceId"]);
        Assert.True(JsonNode.DeepEquals(Frames.SingleRowByInstance(await mac.SystemPresenceAsync(), "Probe-UI-Instance-1"), Frames.SingleRowByInstance(list, "Probe-UI-Instance-1")));
    }

    [Fact]
    public async Task Should_explain_a_wrong_token_and_exit_with_1()
    {
        await using var gateway = await TestGateway.StartAsync();

        var (code, output, error) = await RunAsync(gateway, "--token", "not-the-secret");

        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("gateway token mismatch", error, StringComparison.Ordinal);
        Assert.Contains("--token", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_reject_an_unknown_option_with_usage_and_exit_with_2()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await InstancesCommand.RunAsync(["--colour"], output, error, interactive: false, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("unknown option --colour", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Usage:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_keep_the_listing_up_to_date_with_watch()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var output = new WatchedWriter();
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = InstancesCommand.RunAsync(["--url", gateway.Url.ToString(), "--token", TestGateway.Token, "--watch"], output, error, interactive: false, stop.Token);
        await output.WaitForAsync(text => text.Contains("1 instance ·", StringComparison.Ordinal), Timeout);

        var late = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "late-client", displayName: "Late-Host"));
        await output.WaitForAsync(text => text.Contains("Late-Host", StringComparison.Ordinal) && text.Contains("2 instances", StringComparison.Ordinal), Timeout);
        await late.DisposeAsync();
        await output.WaitForAsync(text => text.Contains(" · disconnect", StringComparison.Ordinal), Timeout);

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(Timeout));
        Assert.Equal("", error.ToString());
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(TestGateway gateway, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(Timeout);
        var code = await InstancesCommand.RunAsync(["--url", gateway.Url.ToString(), .. args], output, error, interactive: false, timeout.Token);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Collects what the command writes and lets a test wait, without polling, until it shows something.</summary>
    private sealed class WatchedWriter : StringWriter
    {
        private readonly Lock _gate = new();
        private readonly StringBuilder _text = new();
        private readonly List<(Func<string, bool> Predicate, TaskCompletionSource Done)> _waiters = [];

        public override void Write(char value) => Append(value.ToString());

        public override void Write(string? value) => Append(value ?? "");

        public override void Write(char[] buffer, int index, int count) => Append(new string(buffer, index, count));

        public override Task WriteAsync(string? value)
        {
            Append(value ?? "");
            return Task.CompletedTask;
        }

        public override string ToString()
        {
            lock (_gate)
                return _text.ToString();
        }

        public async Task WaitForAsync(Func<string, bool> predicate, TimeSpan timeout)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (predicate(_text.ToString()))
                    return;
                _waiters.Add((predicate, done));
            }
            try
            {
                await done.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new Xunit.Sdk.XunitException($"The listing did not show what was expected within {timeout.TotalSeconds:0} s. It printed:\n{this}");
            }
        }

        private void Append(string value)
        {
            lock (_gate)
            {
                _text.Append(value);
                var text = _text.ToString();
                _waiters.RemoveAll(waiter =>
                {
                    if (!waiter.Predicate(text))
                        return false;
                    waiter.Done.TrySetResult();
                    return true;
                });
            }
        }
    }
}
