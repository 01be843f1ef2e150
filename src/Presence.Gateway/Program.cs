using Presence.Gateway;

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
