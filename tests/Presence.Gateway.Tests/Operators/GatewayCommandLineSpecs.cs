using System.Diagnostics;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>The executable's command line: the gateway's options on the root command, help, errors and exit codes.</summary>
public sealed class GatewayCommandLineSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_list_every_gateway_option_with_its_environment_variable_and_the_instances_verb_in_help()
    {
        var (code, output, error) = await InvokeAsync("--help");

        Assert.True(code == GatewayCommandLine.Ok, error);
        foreach (var option in GatewayCommandLine.Options)
        {
            var line = Assert.Single(output.Split('\n'), line => line.TrimStart().StartsWith(option.Name + " ", StringComparison.Ordinal));
            Assert.Contains($"[env: {option.Environment}]", line, StringComparison.Ordinal);
        }
        Assert.Contains("instances", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--colour" }, "'--colour'")]
    [InlineData(new[] { "--port" }, "'--port'")]
    [InlineData(new[] { "--port", "1", "--port", "2" }, "'--port'")]
    [InlineData(new[] { "--port", "abc" }, "gateway.port = 'abc': must be a whole number from 0 to 65535. (set by --port or PRESENCE_GATEWAY_PORT)")]
    [InlineData(new[] { "--port", "0", "--cluster=maybe" }, "presence.cluster.enabled = 'maybe': must be on or off. (set by --cluster or PRESENCE_CLUSTER)")]
    public async Task Should_refuse_a_bad_gateway_option_naming_it_with_exit_code_2(string[] args, string named)
    {
        var (code, output, error) = await InvokeAsync(args);

        Assert.Equal(GatewayCommandLine.BadOptions, code);
        Assert.Empty(output);
        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_turn_given_options_into_configuration_and_leave_the_rest_to_the_defaults()
    {
        var config = GatewayCommandLine.GatewayConfig(["--port=0", "--tick-interval", "5s", "--cluster", "--seed", "a:1", "--seed", "b:2"]);

        Assert.Equal(0, config.GetInt("gateway.port"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("gateway.tick-interval"));
        Assert.True(config.GetBoolean("presence.cluster.enabled"));
        Assert.Equal(["a:1", "b:2"], config.GetStringList("presence.cluster.seeds"));
        Assert.False(config.HasPath("gateway.bind"));
        var ex = Assert.Throws<GatewaySettingsException>(() => GatewayCommandLine.GatewayConfig(["--nope"]));
        Assert.Contains("'--nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_take_the_url_and_token_of_instances_from_the_environment_in_the_real_executable()
    {
        await using var gateway = await TestGateway.StartAsync();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Presence.Gateway.dll"));
        info.ArgumentList.Add("instances");
        info.ArgumentList.Add("--json");
        info.Environment["PRESENCE_GATEWAY_URL"] = gateway.Url.ToString();
        info.Environment["PRESENCE_GATEWAY_TOKEN"] = TestGateway.Token;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == GatewayCommandLine.Ok, await error);
        var list = Assert.IsType<JsonArray>(JsonNode.Parse(await output));
        Assert.Equal(TestGateway.SelfInstanceId, (string?)Assert.Single(list)!["instanceId"]);
    }

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await GatewayCommandLine.InvokeAsync(args, new CommandLineConsole(output, error, Interactive: false));
        return (code, output.ToString(), error.ToString());
    }
}
