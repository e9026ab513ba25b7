using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace RestoreCluster.LocalPostgres;

/// <summary>
/// One private postmaster: initdb into a fresh temp folder (<c>data/</c>, the unix socket in <c>sock/</c>), a
/// free port on 127.0.0.1 only, started directly (no pg_ctl) so that we own its process; as root both run as
/// the <c>postgres</c> OS user. Disposing stops it and removes the folder; so does the end of this process.
/// The test harness and <c>restorecluster demo</c> both use it; the tests also restart it (<see cref="RestartAsync"/>).
/// </summary>
public sealed class ThrowawayServer : IAsyncDisposable
{
    public const string SuperUser = "postgres";

    private const int SigQuit = 3;
    private const string ReadyLine = "database system is ready to accept connections";
    private const int PortAttempts = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ThrowawayServerOptions options;
    private Process postmaster;
    private ServerLog log;
    private int stopped;

    private ThrowawayServer(string rootDirectory, int port, Process postmaster, ServerLog log, ThrowawayServerOptions options)
    {
        RootDirectory = rootDirectory;
        Port = port;
        this.postmaster = postmaster;
        this.log = log;
        this.options = options;
        PostmasterPid = postmaster.Id;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>The temporary folder holding everything of this server.</summary>
    public string RootDirectory { get; }

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string SocketDirectory => Path.Combine(RootDirectory, "sock");

    public int Port { get; }

    /// <summary>The running postmaster's pid (a new one after <see cref="RestartAsync"/>).</summary>
    public int PostmasterPid { get; private set; }

    /// <summary>The server's last log lines since it last started (it logs to stderr, which we read).</summary>
    public string LogTail() => log.Tail();

    /// <summary>An Npgsql connection string over the unix socket, as the superuser.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = SocketDirectory,
        Port = Port,
        Username = SuperUser,
        Database = database,
        Pooling = false,
        Timeout = 15,
        CommandTimeout = 0,
    }.ConnectionString;

    /// <summary>Puts a line in front of pg_hba.conf (the first matching line wins); reload to apply.</summary>
    public void PrependHbaLine(string line)
    {
        string hba = Path.Combine(DataDirectory, "pg_hba.conf");
        File.WriteAllText(hba, line + "\n" + File.ReadAllText(hba));
    }

    public static async Task<ThrowawayServer> StartAsync(ThrowawayServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ThrowawayServerOptions();
        string root = Directory.CreateTempSubdirectory(options.DirectoryPrefix).FullName;
        try
        {
            string dataDirectory = Path.Combine(root, "data");
            Directory.CreateDirectory(Path.Combine(root, "sock"));
            if (ServerUser.IsRoot)
            {
                (await PgTool.RunAsync("chown", ["-R", $"{ServerUser.PostgresUser}:{ServerUser.PostgresUser}", root], cancellationToken: cancellationToken)
                    .ConfigureAwait(false)).EnsureSuccess();
            }

            var binaries = options.Binaries ?? ServerBinaries.Installed;
            var (initdb, initdbArgs) = ServerUser.Command(binaries.Tool("initdb"), "-D", dataDirectory, "--auth=trust", "-U", SuperUser,
                "--encoding=UTF8", "--locale=C", "--no-sync");
            (await PgTool.RunAsync(initdb, initdbArgs, workingDirectory: root, timeout: TimeSpan.FromMinutes(2), environment: binaries.Environment, cancellationToken: cancellationToken)
                .ConfigureAwait(false)).EnsureSuccess();

            // A port picked free can be taken by a concurrent process before postgres binds it: retry.
            for (int attempt = 1; ; attempt++)
            {
                var server = await TryStartAsync(root, FreePort(), options, cancellationToken).ConfigureAwait(false);
                if (server is not null)
                {
                    return server;
                }

                if (attempt == PortAttempts)
                {
                    throw new LocalPostgresException($"postgres could not bind a free port after {attempt} attempts");
                }
            }
        }
        catch
        {
            DeleteDirectory(root);
            throw;
        }
    }

    private static async Task<ThrowawayServer?> TryStartAsync(string root, int port, ThrowawayServerOptions options, CancellationToken cancellationToken)
    {
        if (await LaunchAsync(root, port, options, cancellationToken).ConfigureAwait(false) is not { } launched)
        {
            return null;
        }

        var (postmaster, log) = launched;
        var server = new ThrowawayServer(root, port, postmaster, log, options);
        try
        {
            if (options.Started is not null)
            {
                await options.Started(root, postmaster.Id).ConfigureAwait(false);
            }

            await server.CheckConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            server.Stop(removeDirectory: false);
            throw;
        }

        return server;
    }

    /// <summary>
    /// What <c>pg_ctl restart -m fast</c> does, on the same port and socket directory: a fast shutdown with
    /// <c>pg_ctl stop -m fast</c> (sessions are terminated with 57P01, new ones refused with 57P03, then a
    /// shutdown checkpoint), the server down for <paramref name="downtime"/>, and the postmaster started again
    /// as at first and waited for until it accepts connections. pg_ctl itself would start a postmaster that
    /// is no child of ours: this object keeps owning the process, its log and its clean-up. With
    /// <paramref name="immediate"/>, <c>pg_ctl stop -m immediate</c> instead: no checkpoint, WAL not yet written is
    /// lost, and the start is a crash recovery.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken = default, bool immediate = false)
    {
        var binaries = options.Binaries ?? ServerBinaries.Installed;
        var (pgCtl, args) = ServerUser.Command(binaries.Tool("pg_ctl"), "stop", "-D", DataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60");
        (await PgTool.RunAsync(pgCtl, args, workingDirectory: RootDirectory, timeout: TimeSpan.FromSeconds(90), environment: binaries.Environment, cancellationToken: cancellationToken)
            .ConfigureAwait(false)).EnsureSuccess();
        await postmaster.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        postmaster.Dispose();
        await Task.Delay(downtime, cancellationToken).ConfigureAwait(false);
        var (restarted, restartedLog) = await LaunchAsync(RootDirectory, Port, options, cancellationToken).ConfigureAwait(false)
            ?? throw new LocalPostgresException($"postgres could not bind port {Port} again after its restart: another process took it");
        (postmaster, log) = (restarted, restartedLog);
        PostmasterPid = restarted.Id;
        if (Volatile.Read(ref stopped) != 0)
        {
            // Stopped (the end of this process) while it was down: the new postmaster must not outlive us.
            Kill(restarted);
            return;
        }

        await CheckConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    // Starts the postmaster and waits for its ready line; null when the port was taken.
    private static async Task<(Process Postmaster, ServerLog Log)?> LaunchAsync(string root, int port, ThrowawayServerOptions options, CancellationToken cancellationToken)
    {
        List<string> serverArgs =
        [
            "-D", Path.Combine(root, "data"),
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=" + Path.Combine(root, "sock"),
            "-c", "fsync=off",
            "-c", "full_page_writes=off",
            "-c", "synchronous_commit=off",
            "-c", "max_connections=100",
            "-c", "logging_collector=off",
        ];
        foreach (string setting in options.Settings)
        {
            serverArgs.Add("-c");
            serverArgs.Add(setting);
        }

        var binaries = options.Binaries ?? ServerBinaries.Installed;
        var (fileName, args) = ServerUser.Command(binaries.Tool("postgres"), [.. serverArgs]);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        foreach (string arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        foreach (string name in startInfo.Environment.Keys.Where(PgTool.IsLibpqVariable).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in binaries.Environment)
        {
            startInfo.Environment[name] = value;
        }

        var log = new ServerLog();
        var postmaster = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        postmaster.ErrorDataReceived += (_, e) => log.Add(e.Data);
        postmaster.OutputDataReceived += (_, e) => log.Add(e.Data);
        postmaster.Exited += (_, _) => log.MarkExited();
        postmaster.Start();
        postmaster.BeginErrorReadLine();
        postmaster.BeginOutputReadLine();

        bool ready;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(StartTimeout);
            try
            {
                ready = await log.WaitAsync(line => line.Contains(ReadyLine, StringComparison.Ordinal), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Cancelled or too slow: either way the half-started postmaster must not outlive us.
                Kill(postmaster);
                postmaster.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                throw new LocalPostgresException(
                    $"postgres on port {port} was not ready after {StartTimeout.TotalSeconds} s; server log tail:\n{log.Tail()}");
            }
        }

        if (!ready)
        {
            await postmaster.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            string tail = log.Tail();
            int exitCode = postmaster.ExitCode;
            postmaster.Dispose();
            if (tail.Contains("could not bind", StringComparison.Ordinal) || tail.Contains("Address already in use", StringComparison.Ordinal))
            {
                return null;
            }

            throw new LocalPostgresException($"postgres exited with code {exitCode} during start; server log tail:\n{tail}");
        }

        return (postmaster, log);
    }

    private async Task CheckConnectionAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = SuperUser, Database = "postgres", Pooling = false, Timeout = 10 };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException)
        {
            throw new LocalPostgresException($"postgres on port {Port} logged ready but refused a connection: {e.Message}; server log tail:\n{log.Tail()}", e);
        }
    }

    /// <summary>Leaves the server running after this process (the demo's --keep): nothing stops it any more.</summary>
    public void Detach()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            postmaster.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop(removeDirectory: true);
        return ValueTask.CompletedTask;
    }

    private void OnProcessExit(object? sender, EventArgs e) => Stop(removeDirectory: true);

    private void Stop(bool removeDirectory)
    {
        if (Interlocked.Exchange(ref stopped, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        if (!postmaster.HasExited)
        {
            // SIGQUIT is the immediate shutdown: fast, and the postmaster still removes its shared memory,
            // which a SIGKILL would leak.
            _ = Kill(postmaster.Id, SigQuit);
            if (!postmaster.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                Kill(postmaster);
            }
        }

        postmaster.Dispose();
        if (removeDirectory)
        {
            DeleteDirectory(RootDirectory);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
