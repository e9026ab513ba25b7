using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace RestoreCluster.Hosting;

/// <summary>
/// TLS between silos and between clients and gateways (<c>Microsoft.Orleans.Connections.Security</c>): every
/// connection is mutual, each side shows <see cref="Certificate"/> and accepts the other's only when it chains to
/// one of <see cref="Authorities"/> (or, with none given, to the system's trusted roots). Host names are not
/// checked: silos are reached at the addresses in the membership table, which no certificate names.
/// </summary>
public sealed class ClusterTls
{
    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection? authorities)
    {
        Certificate = certificate;
        Authorities = authorities;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection? Authorities { get; }

    /// <summary>
    /// Loads a certificate with its private key: a PKCS#12 file (.pfx, .p12, no password), or PEM with the key in
    /// <paramref name="keyFile"/> or in the same file; and the CA certificates (PEM) that peers must chain to.
    /// </summary>
    /// <exception cref="InvalidDataException">a file that is missing, unreadable or not what it should be (one line, naming it)</exception>
    public static ClusterTls Load(string certificateFile, string? keyFile, string? authorityFile)
    {
        var certificate = Read(certificateFile, "certificate", () =>
            IsPkcs12(certificateFile) ? X509CertificateLoader.LoadPkcs12FromFile(certificateFile, null) : X509Certificate2.CreateFromPemFile(certificateFile, keyFile));
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidDataException($"the TLS certificate \"{certificateFile}\" has no private key (give it in the file or with --tls-key)");
        }

        X509Certificate2Collection? authorities = null;
        if (authorityFile is not null)
        {
            authorities = Read(authorityFile, "CA", () =>
            {
                var collection = new X509Certificate2Collection();
                collection.ImportFromPemFile(authorityFile);
                return collection.Count > 0 ? collection : throw new CryptographicException("no certificate in it");
            });
        }

        return new ClusterTls(certificate, authorities);
    }

    /// <summary>The decision on a peer's certificate, given the platform's own findings.</summary>
    public bool Accepts(X509Certificate2? remote, SslPolicyErrors errors)
    {
        if (remote is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        if (Authorities is null)
        {
            return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }

    internal void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        // A gateway refuses a client without a certificate of the cluster's CA.
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (certificate, _, errors) => Accepts(certificate, errors);
    }

    private static bool IsPkcs12(string file) =>
        file.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static T Read<T>(string file, string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"could not read the TLS {what} \"{file}\": {e.Message.Split('\n')[0].Trim()}");
        }
    }
}
