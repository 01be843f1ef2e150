using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Presence.Gateway.Tests.Transport;
using Presence.Gateway.Transport;

namespace Presence.Benchmarks;

/// <summary>
/// Reading one opening handshake (<see cref="WebSocketHandshake.TryRead"/>) as a browser sends it, in
/// one segment and cut in two as a pipe may hand it over: time and bytes allocated per handshake.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class HandshakeBenchmarks
{
    private const string Head =
        "GET /?token=x HTTP/1.1\r\n" +
        "Host: 127.0.0.1:18789\r\n" +
        "Connection: Upgrade\r\n" +
        "Pragma: no-cache\r\n" +
        "Cache-Control: no-cache\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
        "Upgrade: websocket\r\n" +
        "Origin: http://127.0.0.1:18789\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-GB,en;q=0.9\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "\r\n";

    private ReadOnlySequence<byte> _whole;
    private ReadOnlySequence<byte> _split;

    [GlobalSetup]
    public void Setup()
    {
        var bytes = Encoding.ASCII.GetBytes(Head);
        _whole = new ReadOnlySequence<byte>(bytes);
        _split = Segments.Split(bytes, bytes.Length / 2);
    }

    [Benchmark(Baseline = true)]
    public object? OneSegment() => Read(_whole);

    [Benchmark]
    public object? TwoSegmentsCut() => Read(_split);

    private static UpgradeRequest? Read(in ReadOnlySequence<byte> buffer)
    {
        WebSocketHandshake.TryRead(buffer, out _, out var request, out _);
        return request;
    }
}
