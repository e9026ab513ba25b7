using System.CommandLine;
using RestoreCluster.Hosting;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>--tls-cert FILE [--tls-key FILE] [--tls-ca FILE]</c>, on the silo and every client command (submit, status,
/// wait, cancel, restore --cluster): the cluster's traffic over mutual TLS (<see cref="ClusterTls"/>). Each
/// defaults to its environment variable, so a machine's silo and clients can share one setting.
/// </summary>
internal static class ClusterTlsOptions
{
    public const string CertificateVariable = "RESTORECLUSTER_TLS_CERT";
    public const string KeyVariable = "RESTORECLUSTER_TLS_KEY";
    public const string AuthorityVariable = "RESTORECLUSTER_TLS_CA";

    private const string CertificateName = "--tls-cert";
    private const string KeyName = "--tls-key";
    private const string AuthorityName = "--tls-ca";

    /// <summary>The three options, new for one command.</summary>
    public static IReadOnlyList<Option<string?>> Create() =>
    [
        new(CertificateName) { HelpName = "FILE", Description = $"cluster traffic over TLS with this certificate: PEM, or PKCS#12 (.pfx, .p12) with its key (default: ${CertificateVariable})" },
        new(KeyName) { HelpName = "FILE", Description = $"the PEM private key of --tls-cert, when not in its file (default: ${KeyVariable})" },
        new(AuthorityName) { HelpName = "FILE", Description = $"accept peers whose certificates chain to these PEM CA certificates (default: ${AuthorityVariable}; without: the system's roots)" },
    ];

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public static void AddTo(Command command)
    {
        foreach (var option in Create())
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The TLS settings the command line (or the environment) gives; null without a certificate.</summary>
    public static ClusterTls? Resolve(ParseResult p, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? certificate = Value(p, CertificateName, CertificateVariable, environment);
        string? key = Value(p, KeyName, KeyVariable, environment);
        string? authority = Value(p, AuthorityName, AuthorityVariable, environment);
        if (certificate is null)
        {
            return key is null && authority is null
                ? null
                : throw new CliError($"{(key is not null ? KeyName : AuthorityName)} needs {CertificateName} (or {CertificateVariable})", ExitCodes.Usage);
        }

        try
        {
            return ClusterTls.Load(certificate, key, authority);
        }
        catch (InvalidDataException e)
        {
            throw new CliError(e.Message);
        }
    }

    private static string? Value(ParseResult p, string option, string variable, Func<string, string?> environment) =>
        p.GetValue<string?>(option) is { Length: > 0 } value ? value : environment(variable) is { Length: > 0 } set ? set : null;
}
