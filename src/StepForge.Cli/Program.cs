namespace StepForge.Cli;

public static class Program
{
    public static int Main(string[] args) => StepForgeCli.Run(args, Console.Out, Console.Error, Console.In);
}
