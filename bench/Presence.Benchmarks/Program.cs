using BenchmarkDotNet.Running;

// The switcher lets one class, one method or the whole suite run from the command line:
//   dotnet run -c Release --project bench/Presence.Benchmarks -- --filter '*'
//   dotnet run -c Release --project bench/Presence.Benchmarks -- --filter '*Snapshot*'
BenchmarkSwitcher.FromAssembly(typeof(Presence.Benchmarks.HandshakeBenchmarks).Assembly).Run(args);
