using System.CommandLine;
using System.Runtime.InteropServices;
using Npgsql;
using RestoreCluster.LocalPostgres;

namespace RestoreCluster.Cli.Demo;

/// <summary>
/// <c>restorecluster demo [--keep] [-j N]</c>: the product shown on a machine that has only PostgreSQL's
/// binaries (docs/demo.md). Ctrl-C and SIGTERM stop it and it still removes everything it made.
/// </summary>
internal sealed class DemoCommand
{
    private const int DefaultScaleMegabytes = 200;

    private readonly Option<bool> keep = new("--keep") { Description = "leave the server running at the end and print how to connect to it and remove it" };

    private readonly Option<int> jobs = new("--jobs", "-j")
    {
        Description = "parallel jobs for both restores (restorecluster and pg_restore)",
        DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 2, 8),
    };

    // For the tests: a smaller sample, and a change that the verification must catch.
    private readonly Option<int> scale = new("--scale") { Hidden = true, DefaultValueFactory = _ => DefaultScaleMegabytes };

    private readonly Option<string?> alterBeforeVerify = new("--alter-before-verify") { Hidden = true };

    private readonly Option<bool> cluster = new("--cluster") { Description = "restore on a local cluster of 3 silo processes instead, and kill one of them while a table loads" };

    public DemoCommand()
    {
        Command = new Command("demo", "start a throwaway PostgreSQL server, build a sample database and archive, restore it through the grains and with pg_restore -j, verify both, clean up")
        {
            keep, jobs, scale, alterBeforeVerify, cluster,
        };
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io)
    {
        var settings = new DemoSettings(p.GetValue(keep), p.GetValue(jobs), p.GetValue(scale), p.GetValue(alterBeforeVerify), p.GetValue(cluster));
        if (settings.Jobs < 1)
        {
            throw new CliError("invalid number of parallel jobs", ExitCodes.Usage);
        }

        if (settings.ScaleMegabytes < 1)
        {
            throw new CliError("--scale must be at least 1 (MB)", ExitCodes.Usage);
        }

        // The demo touches its own server only: nothing from the libpq environment may steer the restore in this
        // process (ConnectionTarget falls back to PGPASSWORD, PGSSLMODE, ...) nor the tools it starts.
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(PgTool.IsLibpqVariable).ToList())
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        using var cancel = new CancellationTokenSource();
        // The restore through the grains listens to Ctrl-C as well and cancels its job; this handler makes the
        // demo stop and clean up whatever step it is in. SIGTERM ends the demo the same way.
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            cancel.Cancel();
        });
        var stdout = new StreamWriter(io.OpenStdout()) { AutoFlush = true };
        try
        {
            return new DemoRun(settings, io, stdout).RunAsync(cancel.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (cancel.IsCancellationRequested && e is not CliError)
        {
            throw new CliError("demo interrupted; its server is stopped and its folder removed");
        }
        catch (LocalPostgresException e)
        {
            throw new CliError($"demo: {e.Message}");
        }
        catch (NpgsqlException e)
        {
            throw new CliError($"demo: {e.Message}");
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            stdout.Dispose();
        }
    }
}
