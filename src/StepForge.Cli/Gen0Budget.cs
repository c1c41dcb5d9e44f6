using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary>
/// Gives the commands that verify in bulk a larger youngest generation than the runtime picks. Verification allocates
/// about 100 KiB of short-lived tensors per program; with the runtime's budget (about 5 MB on a 2-core machine) the
/// collector stops every thread hundreds of times a second, and on a virtual machine each stop costs mostly the
/// wake-up of the collector's threads. 10 MiB halves the collector's share: about 14% more verifications a second,
/// on one thread and on two (bench/README.md, "The long commands set the budget themselves").
/// </summary>
/// <remarks>
/// The runtime reads this budget only from its environment (<c>DOTNET_GCgen0size</c>), never from the runtime
/// configuration, so on Linux the process replaces itself, before anything else runs, with the same program under the
/// same arguments with the variable set: <c>execve</c>, like a launcher that computes a VM's options. The process id,
/// the standard streams, the working folder and the signal dispositions stay, so a shell, a script or a test that
/// waits for or signals the process sees no difference; a debugger or tracer that starts the process sees its
/// runtime start twice, so the README tells users to set the variable first. A variable the user set (0 keeps the
/// runtime's own budget) is left alone, and so is every other platform: there the command simply runs as it is.
/// </remarks>
public static partial class Gen0Budget
{
    /// <summary>10 MiB, in the hexadecimal the runtime reads.</summary>
    public const string Value = "0xA00000";

    /// <summary>
    /// The commands that verify thousands of programs in one run. Starting the runtime again costs about 0.1 s here,
    /// more than a verify or cost of a few files gains from the budget (an agent calls those once per candidate).
    /// </summary>
    public static readonly IReadOnlySet<string> Commands = new HashSet<string>(StringComparer.Ordinal)
    {
        "improve", "run", "synthesize", "bench",
    };

    private static readonly string[] QuickOptions = ["--help", "-h", "-?", "/?", "/h", "--version"];

    /// <summary>
    /// Whether a command line should run under the larger budget: a command of <see cref="Commands"/>, not asking
    /// only for help or the version, with the budget not set already (under either of the runtime's prefixes).
    /// </summary>
    public static bool Wanted(IReadOnlyList<string> args, Func<string, string?> environment) =>
        args.Count > 0 && Commands.Contains(args[0])
        && !args.Any(a => QuickOptions.Contains(a, StringComparer.Ordinal))
        && CollectorSettings.Gen0SizeSetting(environment) is null;

    /// <summary>
    /// On Linux, when <see cref="Wanted"/>: replaces this process with itself under the larger budget, and does not
    /// return. Returns (and the command runs here, under the runtime's budget) when it is not wanted or cannot be done.
    /// </summary>
    public static void ExecIfWanted(string[] args)
    {
        // Measured under the server collector, which the runtime configuration asks for; one the user chose instead
        // (DOTNET_gcServer=0) keeps its own sizing.
        if (!OperatingSystem.IsLinux() || !GCSettings.IsServerGC || !Wanted(args, Environment.GetEnvironmentVariable)) return;
        // The command line and environment this process was started with, byte for byte as the kernel keeps them
        // (through the runtime's strings, a variable that is not UTF-8 would reach the new process changed), host
        // options included (dotnet exec --runtimeconfig ...): the same program runs again whether it came from an
        // apphost, dotnet, dotnet run or a tool shim.
        List<byte[]> argv, environment;
        try
        {
            argv = NulSeparated(File.ReadAllBytes("/proc/self/cmdline"));
            environment = NulSeparated(File.ReadAllBytes("/proc/self/environ"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        // The arguments the command sees must be the last ones of that line, or this is not the line that ran it.
        if (argv.Count < args.Length + 1 || !argv[^args.Length..].Select(a => Encoding.UTF8.GetString(a)).SequenceEqual(args)) return;
        environment.Add(Encoding.UTF8.GetBytes($"{CollectorSettings.Gen0SizeVariable}={Value}"));
        var path = NativeStrings([Encoding.UTF8.GetBytes("/proc/self/exe")]);
        var arguments = NativeStrings(argv);
        var variables = NativeStrings(environment);
        // Returns only on failure (nothing was replaced); the command then runs in this process as it is.
        _ = Execve(path[0], arguments, variables);
        foreach (var pointer in path.Concat(arguments).Concat(variables)) Marshal.FreeHGlobal(pointer);
    }

    /// <summary>The strings of a /proc file whose every string ends with a NUL.</summary>
    private static List<byte[]> NulSeparated(byte[] bytes)
    {
        var strings = new List<byte[]>();
        for (int start = 0; start < bytes.Length;)
        {
            int end = Array.IndexOf(bytes, (byte)0, start);
            if (end < 0) end = bytes.Length;
            strings.Add(bytes[start..end]);
            start = end + 1;
        }
        return strings;
    }

    /// <summary>Each string copied to native memory with its NUL, then a null pointer: the char*[] that execve takes.</summary>
    private static nint[] NativeStrings(IReadOnlyList<byte[]> strings)
    {
        var pointers = new nint[strings.Count + 1];
        for (int i = 0; i < strings.Count; i++)
        {
            pointers[i] = Marshal.AllocHGlobal(strings[i].Length + 1);
            Marshal.Copy(strings[i], 0, pointers[i], strings[i].Length);
            Marshal.WriteByte(pointers[i], strings[i].Length, 0);
        }
        return pointers;
    }

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static partial int Execve(nint path, nint[] argv, nint[] envp);
}
