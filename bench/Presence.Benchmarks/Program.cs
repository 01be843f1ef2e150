using BenchmarkDotNet.Running;
using Presence.Benchmarks;

// The switcher lets one class, one method or the whole suite run from the command line:
//   dotnet run -c Release --project bench/Presence.Benchmarks -- --filter '*'
//   dotnet run -c Release --project bench/Presence.Benchmarks -- --filter '*Snapshot*'
// and `fleet-profile [minutes]` replays issue 13's fleet on the engine alone, without BenchmarkDotNet.
if (args is ["fleet-profile", ..])
    return FleetProfile.Run(args);
// Not typeof(Program): the gateway, referenced for its handshake benchmark, has a Program of its own.
BenchmarkSwitcher.FromAssembly(typeof(HandshakeBenchmarks).Assembly).Run(args);
return 0;
