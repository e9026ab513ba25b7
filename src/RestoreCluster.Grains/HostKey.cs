using System.Net;
using System.Net.Sockets;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// The key of a target server's budget: one server reached by different names counts once. Host names are
/// resolved (the lowest IPv4 address, else IPv6); socket directories are made absolute; the port is part
/// of the key.
/// </summary>
public static class HostKey
{
    public static string For(ConnectionTarget target)
    {
        string host = target.Host;
        if (host.StartsWith('/'))
        {
            return $"unix:{Path.GetFullPath(host).TrimEnd('/')}:{target.Port}";
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var ip) ? [ip] : Dns.GetHostAddresses(host);
        }
        catch (SocketException)
        {
            return $"{host.ToLowerInvariant()}:{target.Port}";
        }

        var v4 = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => a.ToString()).Order(StringComparer.Ordinal).FirstOrDefault();
        string key = v4 ?? addresses.Select(a => a.ToString()).Order(StringComparer.Ordinal).FirstOrDefault() ?? host.ToLowerInvariant();
        return $"{key}:{target.Port}";
    }
}
