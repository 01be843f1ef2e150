using Presence.Gateway;

return await GatewayCommandLine.InvokeAsync(args, CommandLineConsole.System);
