namespace RestoreCluster.Cli;

/// <summary>Standard streams of the process, replaceable for in-process tests.</summary>
internal sealed class CliOutput(Func<Stream> openStdout, TextWriter stderr, Func<Stream> openStdin)
{
    public static CliOutput Process { get; } = new(Console.OpenStandardOutput, Console.Error, Console.OpenStandardInput);

    public Stream OpenStdout() => openStdout();

    public Stream OpenStdin() => openStdin();

    public TextWriter Error => stderr;

    public void Warn(string message) => stderr.WriteLine(WarningLine(message));

    public void Fail(string message) => stderr.WriteLine(ErrorLine(message));

    /// <summary>A -v message: pg_restore's wording after our program name.</summary>
    public void Info(string message) => stderr.WriteLine(InfoLine(message));

    /// <summary>The line <see cref="Fail"/> writes, for writers that own stderr for a while (the live progress display).</summary>
    public static string ErrorLine(string message) => $"restorecluster: error: {OneLine(message)}";

    public static string WarningLine(string message) => $"restorecluster: warning: {OneLine(message)}";

    public static string InfoLine(string message) => $"restorecluster: {OneLine(message)}";

    // A message can quote archive text (an entry's tag may hold a newline); it must stay one line, so line
    // breaks become spaces, as pg_restore -l does for names.
    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
