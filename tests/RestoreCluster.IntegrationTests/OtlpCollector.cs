using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A stand-in OTLP/HTTP collector on 127.0.0.1: keeps every request's path and body and answers 200 with an
/// empty protobuf message (an empty Export*ServiceResponse, which OTLP/HTTP accepts as full success).
/// </summary>
internal sealed class OtlpCollector : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();
    private readonly Task _loop;

    public OtlpCollector()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = ServeAsync();
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<string> Paths => _requests.Select(r => r.Path).ToList();

    /// <summary>The bodies sent to <paramref name="path"/>, concatenated and read as Latin-1 so every byte survives.</summary>
    public string Payload(string path) =>
        string.Concat(_requests.Where(r => r.Path == path).Select(r => Encoding.Latin1.GetString(r.Body)));

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
            // Stop() ends the pending GetContextAsync with this; the requests that came are kept.
        }
        catch (ObjectDisposedException)
        {
            // Same as above on some platforms.
        }

        _listener.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            var context = await _listener.GetContextAsync();
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _requests.Enqueue((context.Request.Url?.AbsolutePath ?? "", body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.ContentLength64 = 0;
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
