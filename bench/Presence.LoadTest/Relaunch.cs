using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Presence.LoadTest;

/// <summary>
/// Pins the tool to its own core by running itself again under <c>taskset</c>, so
/// that the runtime sizes its thread pool for the one core it will really have
/// (setting the affinity from inside would leave threads already started unpinned).
/// </summary>
internal static class Relaunch
{
    /// <summary>Set in the child's environment: it is already where it should be.</summary>
    public const string PinnedVariable = "PRESENCE_LOADTEST_PINNED";

    /// <summary>The dotnet host running this tool, for starting the gateway the same way.</summary>
    public static string DotnetHost =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    public static bool IsPinned => Environment.GetEnvironmentVariable(PinnedVariable) == "1";

    /// <summary>Adds what starts this tool again: the apphost, or dotnet and the tool's dll.</summary>
    public static void AddSelf(ICollection<string> arguments)
    {
        var path = Environment.ProcessPath ?? throw new LoadException("cannot find the tool's own executable");
        arguments.Add(path);
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
            arguments.Add(typeof(Relaunch).Assembly.Location);
    }

    /// <summary>Runs this tool again as <c>taskset -c core …args</c> and returns its exit code.</summary>
    public static async Task<int> RunPinnedAsync(int core, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo("taskset") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(core.ToString(CultureInfo.InvariantCulture));
        AddSelf(start.ArgumentList);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment[PinnedVariable] = "1";
        using var child = Process.Start(start) ?? throw new LoadException("could not start taskset");
        // A stop signal goes on to the child, which stops the servers it started; the parent waits for it.
        void Forward(PosixSignalContext context)
        {
            context.Cancel = true;
            _ = SendSignal(child.Id, context.Signal == PosixSignal.SIGINT ? SigInt : SigTerm);
        }
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
        await child.WaitForExitAsync().ConfigureAwait(false);
        return child.ExitCode;
    }

    private const int SigInt = 2;
    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
