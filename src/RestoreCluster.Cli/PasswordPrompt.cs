using System.Text;

namespace RestoreCluster.Cli;

/// <summary>Reads a password from the terminal without echoing it, as libpq's prompt does.</summary>
internal static class PasswordPrompt
{
    /// <summary>The typed password, or null without a terminal to ask on.</summary>
    public static string? Ask()
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Error.Write("Password: ");
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0)
                {
                    sb.Length--;
                }

                continue;
            }

            sb.Append(key.KeyChar);
        }

        Console.Error.WriteLine();
        return sb.ToString();
    }
}
