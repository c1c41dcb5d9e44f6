namespace StepForge.Cli;

public static class Program
{
    public static Task<int> Main(string[] args)
    {
        Gen0Budget.ExecIfWanted(args);
        return StepForgeCli.RunAsync(args, Console.Out, Console.Error, Console.In);
    }
}
