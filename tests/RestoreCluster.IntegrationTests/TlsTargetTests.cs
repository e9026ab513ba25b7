using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Targets over TLS, with libpq's keywords and environment: a server of its own whose certificate a test CA
/// signed for the name <c>localhost</c> only, and whose pg_hba refuses TCP sessions without TLS (so a restore
/// that works used TLS). verify-full checks the name, verify-ca only the chain, require with a root file
/// verifies like verify-ca (as libpq does), and the verify modes need a root file.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TlsTargetTests : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-tls-");
    private PostgresServer? _server;
    private string _archive = "";
    private string _ca = "";
    private string _otherCa = "";
    private string _home = "";

    private PostgresServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        // The server (the postgres OS user, as root) reads its certificate and key from here.
        File.SetUnixFileMode(_directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        _home = Directory.CreateDirectory(Path.Combine(_directory.FullName, "home")).FullName;
        var (ca, caKey) = Authority("restorecluster test CA");
        var (otherCa, _) = Authority("another test CA");
        _ca = WritePem("ca.pem", ca.ExportCertificatePem());
        _otherCa = WritePem("other-ca.pem", otherCa.ExportCertificatePem());

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var serverCert = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
        string certFile = WritePem("server.crt", serverCert.ExportCertificatePem());
        string keyFile = WritePem("server.key", key.ExportPkcs8PrivateKeyPem());
        caKey.Dispose();

        // The server reads its files as the postgres OS user, and wants its key readable by it alone.
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (Environment.UserName == "root")
        {
            (await ProcessRunner.RunAsync("chown", ["postgres", certFile, keyFile])).EnsureSuccess();
        }

        await Server.ExecuteAsync("postgres", $"ALTER SYSTEM SET ssl_cert_file = '{certFile}'");
        await Server.ExecuteAsync("postgres", $"ALTER SYSTEM SET ssl_key_file = '{keyFile}'");
        await Server.ExecuteAsync("postgres", "ALTER SYSTEM SET ssl = on");
        string hba = (await Server.ScalarAsync<string>("postgres", "SHOW hba_file"))!;
        await File.WriteAllTextAsync(hba, "hostnossl all all 127.0.0.1/32 reject\nhostnossl all all ::1/128 reject\n" + await File.ReadAllTextAsync(hba));
        await Server.ExecuteAsync("postgres", "SELECT pg_reload_conf()");
        Npgsql.NpgsqlConnection.ClearAllPools();

        string source = await Server.CreateDatabaseAsync("tls_src");
        await Server.ExecuteAsync(source, """
            CREATE TABLE public.items (id integer PRIMARY KEY, name text NOT NULL);
            INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 300) g;
            CREATE INDEX items_name ON public.items (name);
            """);
        _archive = Path.Combine(_directory.FullName, "tls.dump");
        (await Server.RunToolAsync("pg_dump", ["-Fc", "-f", _archive, "-d", source], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _directory.Delete(recursive: true);
    }

    [Theory]
    [InlineData("-j 2")]
    [InlineData("-1")]
    public async Task VerifyFullWithTheRootCertificateRestoresOverTls(string how)
    {
        string db = await Server.CreateDatabaseAsync("tls_full");

        var result = await RestoreAsync(how, $"host=localhost port={Server.Port} user=postgres dbname={db} sslmode=verify-full sslrootcert={_ca}");

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(300L, await Server.ScalarAsync<long>(db, "SELECT count(*) FROM public.items"));
    }

    [Fact]
    public async Task VerifyFullRefusesAHostNameTheCertificateDoesNotName()
    {
        string db = await Server.CreateDatabaseAsync("tls_name");

        var result = await RestoreAsync("-j 2", $"host=127.0.0.1 port={Server.Port} user=postgres dbname={db} sslmode=verify-full sslrootcert={_ca}");

        AssertOneErrorLine(result, $"connection to server at 127.0.0.1:{Server.Port}/{db} as postgres failed: ");
        Assert.Equal(0L, await Server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'items'"));
    }

    [Fact]
    public async Task VerifyCaChecksTheChainButNotTheName()
    {
        string db = await Server.CreateDatabaseAsync("tls_ca");

        var result = await RestoreAsync("-j 2", $"host=127.0.0.1 port={Server.Port} user=postgres dbname={db} sslmode=verify-ca sslrootcert={_ca}");

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(300L, await Server.ScalarAsync<long>(db, "SELECT count(*) FROM public.items"));
    }

    [Fact]
    public async Task RequireWithARootFileVerifiesTheChainAsLibpqDoes()
    {
        string db = await Server.CreateDatabaseAsync("tls_req");

        var wrongRoot = await RestoreAsync("-j 2", $"host=localhost port={Server.Port} user=postgres dbname={db} sslmode=require sslrootcert={_otherCa}");
        var noRoot = await RestoreAsync("-j 2", $"host=localhost port={Server.Port} user=postgres dbname={db} sslmode=require");

        AssertOneErrorLine(wrongRoot, "connection to server at localhost");
        Assert.True(noRoot.ExitCode == 0, noRoot.Describe());
        Assert.Equal(300L, await Server.ScalarAsync<long>(db, "SELECT count(*) FROM public.items"));
    }

    [Fact]
    public async Task TheVerifyModesNeedARootFileAndTheEnvironmentNamesOne()
    {
        string db = await Server.CreateDatabaseAsync("tls_env");
        string target = $"host=localhost port={Server.Port} user=postgres dbname={db}";

        var missing = await RestoreAsync("-j 2", target, new() { ["PGSSLMODE"] = "verify-full" });
        var fromEnvironment = await RestoreAsync("-j 2", target, new() { ["PGSSLMODE"] = "verify-full", ["PGSSLROOTCERT"] = _ca });

        AssertOneErrorLine(missing, $"root certificate file \"{Path.Combine(_home, ".postgresql", "root.crt")}\" does not exist");
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.Describe());
        Assert.Equal(300L, await Server.ScalarAsync<long>(db, "SELECT count(*) FROM public.items"));
    }

    [Fact]
    public async Task WithoutTlsTheServerRefusesTheSessionAndAnUnknownModeIsAnError()
    {
        string db = await Server.CreateDatabaseAsync("tls_off");

        var disabled = await RestoreAsync("-j 2", $"host=127.0.0.1 port={Server.Port} user=postgres dbname={db} sslmode=disable");
        var unknown = await RestoreAsync("-j 2", $"host=127.0.0.1 port={Server.Port} user=postgres dbname={db} sslmode=maybe");

        AssertOneErrorLine(disabled, "no encryption");
        AssertOneErrorLine(unknown, "invalid sslmode value: \"maybe\"");
    }

    private Task<ProcessResult> RestoreAsync(string how, string target, Dictionary<string, string>? env = null)
    {
        // No ~/.postgresql of the machine's: HOME is a folder of the test's own.
        var fullEnv = new Dictionary<string, string>(env ?? [], StringComparer.Ordinal) { ["HOME"] = _home };
        return CliRunner.RunAsync(Server, ["restore", .. how.Split(' '), "--progress", "none", "-d", target, _archive], fullEnv, timeout: TimeSpan.FromMinutes(2));
    }

    private static void AssertOneErrorLine(ProcessResult result, string expected)
    {
        Assert.True(result.ExitCode == 1, result.Describe());
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.Stderr);
        Assert.StartsWith("restorecluster: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    private static (X509Certificate2 Certificate, RSA Key) Authority(string name)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60)), key);
    }

    private string WritePem(string name, string pem)
    {
        string path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, pem);
        return path;
    }
}
