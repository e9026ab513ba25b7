using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace RestoreCluster.Testing;

public sealed partial class PostgresServer
{
    /// <summary>
    /// One private postmaster: initdb into a fresh temp dir, started directly (no pg_ctl) so that we own
    /// its process; as root both run as the <c>postgres</c> OS user because postgres refuses to run as root.
    /// </summary>
    private sealed class LocalInstance : IAsyncDisposable
    {
        private const int SigQuit = 3;
        private const string ReadyLine = "database system is ready to accept connections";
        private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

        private readonly Process postmaster;
        private readonly ServerLog log;
        private readonly string rootDirectory;
        private int disposed;

        private LocalInstance(string rootDirectory, int port, Process postmaster, ServerLog log)
        {
            this.rootDirectory = rootDirectory;
            Port = port;
            this.postmaster = postmaster;
            this.log = log;
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }

        public int Port { get; }

        public string SocketDirectory => Path.Combine(rootDirectory, "sock");

        /// <summary>Puts a line in front of pg_hba.conf (the first matching line wins); reload to apply.</summary>
        public void PrependHbaLine(string line)
        {
            string hba = Path.Combine(rootDirectory, "data", "pg_hba.conf");
            File.WriteAllText(hba, line + "\n" + File.ReadAllText(hba));
        }

        public static async Task<LocalInstance> StartAsync(CancellationToken cancellationToken)
        {
            var root = Directory.CreateTempSubdirectory("restorecluster-pg-").FullName;
            try
            {
                var dataDirectory = Path.Combine(root, "data");
                Directory.CreateDirectory(Path.Combine(root, "sock"));
                if (IsRoot)
                {
                    (await ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", root], cancellationToken: cancellationToken)
                        .ConfigureAwait(false)).EnsureSuccess();
                }

                var initdb = await ProcessRunner.RunAsync(
                    AsServerUser(out var initdbArgs, PgBinaries.Tool("initdb"), "-D", dataDirectory, "--auth=trust", "-U", "postgres",
                        "--encoding=UTF8", "--locale=C", "--no-sync"),
                    initdbArgs,
                    timeout: TimeSpan.FromMinutes(2),
                    workingDirectory: root,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                initdb.EnsureSuccess();

                // A port picked free can be taken by a concurrent test process before postgres binds it: retry.
                for (var attempt = 1; ; attempt++)
                {
                    var port = FreePort();
                    var instance = await TryStartAsync(root, dataDirectory, port, cancellationToken).ConfigureAwait(false);
                    if (instance is not null)
                    {
                        return instance;
                    }

                    if (attempt == 5)
                    {
                        throw new InvalidOperationException($"postgres could not bind a free port after {attempt} attempts");
                    }
                }
            }
            catch
            {
                DeleteDirectory(root);
                throw;
            }
        }

        private static async Task<LocalInstance?> TryStartAsync(string root, string dataDirectory, int port, CancellationToken cancellationToken)
        {
            var fileName = AsServerUser(out var args, PgBinaries.Tool("postgres"), "-D", dataDirectory,
                "-p", port.ToString(CultureInfo.InvariantCulture),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=" + Path.Combine(root, "sock"),
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
                "-c", "synchronous_commit=off",
                "-c", "max_connections=100",
                "-c", "logging_collector=off");
            var startInfo = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = root,
            };
            foreach (var arg in args)
            {
                startInfo.ArgumentList.Add(arg);
            }

            var log = new ServerLog();
            var postmaster = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
            postmaster.ErrorDataReceived += (_, e) => log.Add(e.Data);
            postmaster.OutputDataReceived += (_, e) => log.Add(e.Data);
            postmaster.Exited += (_, _) => log.MarkExited();
            postmaster.Start();
            postmaster.BeginErrorReadLine();
            postmaster.BeginOutputReadLine();

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StartTimeout);
            bool ready;
            try
            {
                ready = await log.WaitAsync(line => line.Contains(ReadyLine, StringComparison.Ordinal), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Kill(postmaster);
                throw new TimeoutException(
                    $"postgres on port {port} was not ready after {StartTimeout.TotalSeconds} s; server log tail:\n{log.Tail()}");
            }

            if (!ready)
            {
                await postmaster.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                var tail = log.Tail();
                postmaster.Dispose();
                if (tail.Contains("could not bind", StringComparison.Ordinal) || tail.Contains("Address already in use", StringComparison.Ordinal))
                {
                    return null;
                }

                throw new InvalidOperationException($"postgres exited with code {postmaster.ExitCode} during start; server log tail:\n{tail}");
            }

            var instance = new LocalInstance(root, port, postmaster, log);
            try
            {
                await TempDirectoryWatchdog.StartAsync(root, postmaster.Id).ConfigureAwait(false);
                await instance.CheckConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await instance.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return instance;
        }

        private async Task CheckConnectionAsync(CancellationToken cancellationToken)
        {
            var builder = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = "postgres", Pooling = false, Timeout = 10 };
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                throw new InvalidOperationException($"postgres on port {Port} logged ready but refused a connection: {e.Message}; server log tail:\n{log.Tail()}", e);
            }
        }

        public ValueTask DisposeAsync()
        {
            Stop();
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            return ValueTask.CompletedTask;
        }

        private void OnProcessExit(object? sender, EventArgs e) => Stop();

        private void Stop()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0)
            {
                return;
            }

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
            DeleteDirectory(rootDirectory);
        }

        private static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

        private static string AsServerUser(out List<string> args, string tool, params string[] toolArgs)
        {
            if (!IsRoot)
            {
                args = [.. toolArgs];
                return tool;
            }

            args = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", tool, .. toolArgs];
            return "setpriv";
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

        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint GetEuid();
    }
}
