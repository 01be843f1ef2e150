using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
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
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd()).ToArray();
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("STATUS  ", lines[0], StringComparison.Ordinal);
        Assert.Contains(TestGateway.SelfHost, lines[1], StringComparison.Ordinal);
        Assert.EndsWith(" · self", lines[1], StringComparison.Ordinal);
        Assert.Contains("Probe-UI-Host", lines[2], StringComparison.Ordinal);
        Assert.Contains("Mac · Mac15,3 · macos 15.1", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(" · connect", lines[2], StringComparison.Ordinal);
        Assert.All(lines[1..3], line => Assert.StartsWith("Active  ", line, StringComparison.Ordinal));
        // Aligned: every column starts where its header does.
        Assert.Contains(" Probe-UI-Instance-1 ", lines[2], StringComparison.Ordinal);
        foreach (var header in new[] { "HOST", "INSTANCE", "IP", "VERSION", "DEVICE", "MODE", "LAST INPUT", "UPDATED" })
        {
            var column = lines[0].IndexOf(header, StringComparison.Ordinal);
            Assert.All(lines[1..3], line => Assert.Equal(' ', line[column - 1]));
        }
        Assert.Equal("2 instances · 2 active · 0 left · 0 idle · 0 stale", lines[3]);
    }

    /// <summary>Real clients producing each duplicate case; the doctor names the check that applies to each row, with the fix.</summary>
    [Fact]
    public async Task Should_explain_each_look_alike_row_with_the_check_that_applies()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var clients = await LookAlikeClients.ConnectAsync(gateway);

        var (code, output, error) = await RunAsync(gateway, "--token", TestGateway.Token, "--doctor");

        Assert.True(code == 0, error);
        Assert.Equal(2, Regex.Count(output, "^Twin-Host · instanceId — · ui · connect\\r?\\n  check 3: .*send a stable client.instanceId", RegexOptions.Multiline));
        Assert.Matches("(?m)^Probe-UI-Host · instanceId — · — · heartbeat\\r?\\n  check 2: .*beacon without instanceId.*same instanceId in every beacon", output);
        Assert.Matches("(?m)^Probe-UI-Host · instanceId Probe-UI-Instance-1 · ui · connect\\r?\\n  check 1: ", output);

        // The table marks the same rows.
        var (_, table, _) = await RunAsync(gateway, "--token", TestGateway.Token);
        Assert.Equal(4, table.Split('\n').Count(line => line.Contains("(dup?)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Should_refuse_doctor_with_watch_naming_both()
    {
        var (code, _, error) = await InvokeAsync(CancellationToken.None, "instances", "--doctor", "--watch");

        Assert.Equal(GatewayCommandLine.BadOptions, code);
        Assert.Contains("--doctor", error, StringComparison.Ordinal);
        Assert.Contains("--watch", error, StringComparison.Ordinal);
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

    [Theory]
    [InlineData("--colour", "'--colour'")]
    [InlineData("--url", "'--url'")]
    [InlineData("--url=http://127.0.0.1:1", "--url must be a ws:// or wss:// URL")]
    public async Task Should_reject_a_bad_option_naming_it_and_exit_with_2(string option, string named)
    {
        var (code, output, error) = await InvokeAsync(CancellationToken.None, "instances", option);

        Assert.Equal(GatewayCommandLine.BadOptions, code);
        Assert.Empty(output);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.Contains("Usage: ", error, StringComparison.Ordinal);
        Assert.Contains("instances --help", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_print_help_for_the_verb_with_its_options_and_their_environment_variables()
    {
        var (code, output, error) = await InvokeAsync(CancellationToken.None, "instances", "--help");

        Assert.True(code == 0, error);
        Assert.Contains("instances [options]", output, StringComparison.Ordinal);
        foreach (var expected in new[] { "--url", "--token", "--password", "--watch", "--json", "PRESENCE_GATEWAY_URL", "PRESENCE_GATEWAY_TOKEN" })
            Assert.Contains(expected, output, StringComparison.Ordinal);
        // The gateway's own options belong to the root command, not to the verb.
        Assert.DoesNotContain("--cluster-port", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_show_the_key_of_a_row_keyed_by_its_connection_in_the_next_table_of_a_watch()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var watch = await WatchAsync(gateway);
        Assert.DoesNotContain("KEY", watch.Output.ToString(), StringComparison.Ordinal);

        await using var anonymous = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], displayName: "Anonymous-Host"));

        // A client without instanceId is keyed by its connection: the table that shows it has a KEY column with that id.
        await watch.Output.WaitForAsync(text => Regex.IsMatch(text, @"KEY.*\n(.*\n)*.*Anonymous-Host\s+—\s+[0-9a-f-]{36} "), Timeout);
        Assert.Equal(0, await watch.StopAsync());
    }

    [Fact]
    public async Task Should_colour_the_status_and_redraw_the_watch_in_place_on_a_terminal()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var watch = await WatchAsync(gateway, onTerminal: true);
        var first = watch.Output.ToString().Length;

        await using var late = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "late-client", displayName: "Late-Host"));
        await watch.Output.WaitForAsync(text => text.Contains("Late-Host", StringComparison.Ordinal), Timeout);

        Assert.Equal(0, await watch.StopAsync());
        var text = watch.Output.ToString();
        // Green "Active" (16- or 256-colour, as the terminal supports), and the second drawing moves the cursor
        // back up over the first instead of scrolling on.
        Assert.Matches(@"\u001b\[(32|38;5;2)mActive", text);
        Assert.Matches(@"\u001b\[\d+A", text[first..]);
        Assert.Equal("", watch.Error.ToString());
    }

    [Fact]
    public async Task Should_keep_the_listing_up_to_date_with_watch()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var watch = await WatchAsync(gateway);

        var late = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "late-client", displayName: "Late-Host"));
        await watch.Output.WaitForAsync(text => text.Contains("Late-Host", StringComparison.Ordinal) && text.Contains("2 instances", StringComparison.Ordinal), Timeout);
        await late.DisposeAsync();
        await watch.Output.WaitForAsync(text => text.Contains("Left", StringComparison.Ordinal) && text.Contains("left just now · disconnect", StringComparison.Ordinal), Timeout);

        Assert.Equal(0, await watch.StopAsync());
        Assert.Equal("", watch.Error.ToString());
    }

    /// <summary>Runs <c>instances</c> against <paramref name="gateway"/> with <paramref name="args"/>, its output redirected.</summary>
    internal static async Task<(int Code, string Output, string Error)> RunAsync(TestGateway gateway, params string[] args)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        return await InvokeAsync(timeout.Token, ["instances", "--url", gateway.Url.ToString(), .. args]);
    }

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(CancellationToken cancellationToken, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await GatewayCommandLine.InvokeAsync(args, new CommandLineConsole(output, error, Interactive: false), cancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary><c>instances --watch</c> against <paramref name="gateway"/>, once it has drawn its first table (the gateway's own row).</summary>
    private static async Task<Watch> WatchAsync(TestGateway gateway, bool onTerminal = false)
    {
        var watch = new Watch(gateway, onTerminal);
        await watch.Output.WaitForAsync(text => text.Contains("1 instance ·", StringComparison.Ordinal), Timeout);
        return watch;
    }

    /// <summary>A running watch: its output and errors, and a stop as Ctrl-C gives it.</summary>
    private sealed class Watch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<int> _run;

        public Watch(TestGateway gateway, bool onTerminal)
        {
            var console = onTerminal
                ? new CommandLineConsole(Output, Error, Interactive: true, Width: 160)
                : new CommandLineConsole(Output, Error, Interactive: false);
            _run = GatewayCommandLine.InvokeAsync(["instances", "--url", gateway.Url.ToString(), "--token", TestGateway.Token, "--watch"], console, _stop.Token);
        }

        public WatchedWriter Output { get; } = new();

        public StringWriter Error { get; } = new();

        /// <summary>Stops the watch; its exit code.</summary>
        public async Task<int> StopAsync()
        {
            await _stop.CancelAsync();
            return await _run.WaitAsync(Timeout);
        }

        public void Dispose()
        {
            _stop.Dispose();
            Output.Dispose();
            Error.Dispose();
        }
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
