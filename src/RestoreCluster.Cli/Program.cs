using System.CommandLine;
using System.CommandLine.Parsing;
using RestoreCluster.Archive;
using RestoreCluster.Cli.Cluster;
using RestoreCluster.Cli.Demo;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        // Statements go to the server exactly as the archive has them (see DatabaseRestore).
        AppContext.SetSwitch("Npgsql.EnableSqlRewriting", false);
        return Run(args, CliOutput.Process);
    }

    /// <summary>Parses and runs one command line; every failure ends as one line on stderr and an exit code.</summary>
    public static int Run(string[] args, CliOutput io)
    {
        bool verbose = args.Contains("--verbose") || args.Contains("-v");
        Command? command = null;
        try
        {
            var root = BuildCommands(io, out var handlers);
            var parse = root.Parse(args);
            command = parse.CommandResult.Command;
            if (parse.Errors.Count > 0)
            {
                // An unknown option is taken for an argument; name it rather than what it displaced.
                var unknown = parse.Tokens.FirstOrDefault(t => t.Type == TokenType.Argument && t.Value.Length > 1 && t.Value[0] == '-');
                io.Fail(unknown is not null ? $"unrecognized option \"{unknown.Value}\"" : parse.Errors[0].Message);
                io.Error.WriteLine(HelpHint(command));
                return ExitCodes.Usage;
            }

            if (parse.Action is not null)
            {
                // --help, -? and --version: the commands themselves have no actions (their handlers run below).
                using var stdout = new StreamWriter(io.OpenStdout(), new System.Text.UTF8Encoding(false));
                int exit = parse.Invoke(new InvocationConfiguration { Output = stdout, Error = io.Error });
                stdout.Flush();
                return exit;
            }

            if (!handlers.TryGetValue(parse.CommandResult.Command, out var handler))
            {
                io.Fail("no command given");
                io.Error.WriteLine(HelpHint(root));
                return ExitCodes.Usage;
            }

            return handler(parse);
        }
        catch (RestoreFailedException e)
        {
            io.Fail(e.Message);
            return ExitCodes.Failure;
        }
        catch (PlanningException e)
        {
            io.Fail(e.Message);
            return ExitCodes.Failure;
        }
        catch (CliError e)
        {
            io.Fail(e.Message);
            if (e.ExitCode == ExitCodes.Usage && command is not null)
            {
                io.Error.WriteLine(HelpHint(command));
            }

            return e.ExitCode;
        }
        catch (ArchiveException e)
        {
            io.Fail(e.Message);
            if (verbose)
            {
                io.Error.WriteLine(e.ToString());
            }

            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            io.Fail(e.Message);
            if (verbose)
            {
                io.Error.WriteLine(e.ToString());
            }

            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // A bug of ours: still one line (the stack trace only with --verbose), and marked as internal.
            io.Fail($"internal error: {e.GetType().Name}: {e.Message.Replace('\n', ' ')}");
            if (verbose)
            {
                io.Error.WriteLine(e.ToString());
            }

            return ExitCodes.Failure;
        }
    }

    /// <summary>The command tree and each command's handler (the deployment files' test parses their command lines with it).</summary>
    internal static RootCommand BuildCommands(CliOutput io, out Dictionary<Command, Func<ParseResult, int>> handlers)
    {
        var root = new RootCommand("RestoreCluster: restores PostgreSQL pg_dump archives like pg_restore, on one machine or a cluster");
        handlers = [];

        var listJson = new Option<bool>("--json") { Description = "print every entry with all fields as JSON" };
        var listVerbose = new Option<bool>("--verbose", "-v") { Description = "list every entry with its dependencies" };
        var listArchive = new Argument<string?>("archive") { Description = "the archive (standard input when absent or -)", Arity = ArgumentArity.ZeroOrOne };
        var list = new Command("list", "print the archive's table of contents exactly as pg_restore -l does") { listJson, listVerbose, listArchive };
        root.Subcommands.Add(list);
        handlers[list] = p =>
        {
            string? path = p.GetValue(listArchive);
            RejectUnknownOption(path);
            using var archive = ArchiveOpener.Open(path, io);
            using var stdout = io.OpenStdout();
            return ListCommand.Run(archive, archive.Entries, SelectionOptions.Default, p.GetValue(listJson), p.GetValue(listVerbose), stdout);
        };

        var spec = new RestoreOptionsSpec();
        var restore = new Command("restore", "restore a pg_dump archive like pg_restore (-d TARGET or -f FILE)");
        spec.AddTo(restore);
        root.Subcommands.Add(restore);
        handlers[restore] = p => RestoreCommand.Run(p, spec, io);

        var forget = new ForgetCommand();
        root.Subcommands.Add(forget.Command);
        handlers[forget.Command] = p => forget.Run(p, io);

        // The cluster: its database, its members, and the clients that submit and follow jobs (docs/cluster.md).
        var submitSpec = new RestoreOptionsSpec();
        var submit = new Command("submit", "submit a restore job to the cluster (-d TARGET ARCHIVE), or a fleet (--manifest FILE); prints the job ids and returns");
        submitSpec.AddTo(submit);
        var fleet = new Fleet.FleetOptions();
        fleet.AddTo(submit);
        root.Subcommands.Add(submit);
        handlers[submit] = p => fleet.Given(p, submitSpec) is { } manifest
            ? Fleet.FleetSubmit.Run(p, submitSpec.Cluster, manifest, p.GetValue(fleet.DryRun), io)
            : RestoreCommand.Run(p, submitSpec, io, submit: true);
        var clusterInit = new ClusterInitCommand();
        root.Subcommands.Add(clusterInit.Command);
        handlers[clusterInit.Init] = p => clusterInit.Run(p, io);
        var silo = new SiloCommand();
        root.Subcommands.Add(silo.Command);
        handlers[silo.Command] = p => silo.Run(p, io);
        var status = new StatusCommand();
        root.Subcommands.Add(status.Command);
        handlers[status.Command] = p => status.Run(p, io);
        var wait = new WaitCommand();
        root.Subcommands.Add(wait.Command);
        handlers[wait.Command] = p => wait.Run(p, io);
        var cancel = new CancelCommand();
        root.Subcommands.Add(cancel.Command);
        handlers[cancel.Command] = p => cancel.Run(p, io);
        var budget = new BudgetCommand();
        root.Subcommands.Add(budget.Command);
        handlers[budget.Set] = p => budget.Run(p, io);

        // The cluster's traffic over TLS: the same options on the silo and on every client (submit and restore have
        // them from RestoreOptionsSpec, under their help's RestoreCluster options; docs/cluster.md).
        foreach (var command in (Command[])[silo.Command, status.Command, wait.Command, cancel.Command, budget.Set])
        {
            ClusterTlsOptions.AddTo(command);
        }

        var tune = new Tune.TuneCommand();
        root.Subcommands.Add(tune.Command);
        handlers[tune.Command] = p => tune.Run(p, io);

        var demo = new DemoCommand();
        root.Subcommands.Add(demo.Command);
        handlers[demo.Command] = p => demo.Run(p, io);
        CommandHelp.Configure(root, restore, spec, io);
        return root;
    }

    /// <summary>The line after a usage error: where the command's help is.</summary>
    public static string HelpHint(Command command) =>
        command is RootCommand ? "Try \"restorecluster --help\" for more information." : $"Try \"restorecluster {command.Name} --help\" for more information.";

    /// <summary>An unknown option lands in the archive argument; say so instead of "file not found".</summary>
    public static void RejectUnknownOption(string? archive)
    {
        if (archive is { Length: > 1 } && archive[0] == '-')
        {
            throw new CliError($"unrecognized option \"{archive}\"", ExitCodes.Usage);
        }
    }
}
