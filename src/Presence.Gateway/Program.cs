using Presence.Gateway;
using Presence.Gateway.Operators;

if (args is [InstancesCommand.Verb, ..])
    return await InstancesCommand.RunFromConsoleAsync(args[1..]);
try
{
    await GatewayApp.Build(args).RunAsync();
    return 0;
}
catch (GatewaySettingsException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
