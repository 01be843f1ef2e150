using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Presence.Gateway.Tls;

/// <summary>
/// The certificate Kestrel presents, reloaded when its files change: a renewed certificate is served from the next
/// handshake on, without a restart and without touching connections already open. The files are looked at, at most
/// once per <see cref="CheckInterval"/>, by whichever handshake (or health check) comes along; a file that does not
/// load (say, half-written) keeps the previous certificate in service until the files change again.
/// </summary>
public sealed class ServerCertificate
{
    /// <summary>How stale the served certificate may be after its files changed.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Loaded _current;
    private FileStamp _seen;
    private long _lastCheck;

    private ServerCertificate(string certificatePath, string keyPath, bool selfSigned, bool generated, TimeProvider time)
    {
        CertificatePath = certificatePath;
        KeyPath = keyPath;
        SelfSigned = selfSigned;
        Generated = generated;
        _time = time;
        _seen = FileStamp.Of(certificatePath, keyPath);
        _current = Load(certificatePath, keyPath);
        _lastCheck = time.GetTimestamp();
    }

    /// <summary>A replacement certificate is in service; its fingerprint is the argument.</summary>
    public event Action<string>? Reloaded;

    /// <summary>The files changed but do not load; the previous certificate stays in service.</summary>
    public event Action<Exception>? ReloadFailed;

    public string CertificatePath { get; }
    public string KeyPath { get; }

    /// <summary>Made by <c>--tls-auto</c>: clients pin it by its fingerprint.</summary>
    public bool SelfSigned { get; }

    /// <summary>Made by <c>--tls-auto</c> during this start (not reused from an earlier one).</summary>
    public bool Generated { get; }

    public X509Certificate2 Certificate => Current().Certificate;

    /// <summary>SHA-256 of the certificate in service, as <c>AB:CD:…</c>.</summary>
    public string Fingerprint => Current().Fingerprint;

    /// <summary>The given files, or the self-signed certificate of <c>--tls-auto</c> (created on first start).</summary>
    /// <exception cref="GatewaySettingsException">The files are missing or do not hold a certificate with its key.</exception>
    public static ServerCertificate Open(TlsSettings settings, IPAddress bind, TimeProvider time)
    {
        if (settings.CertificatePath is { } certificate)
            return Open(certificate, settings.KeyPath ?? certificate, selfSigned: false, generated: false, time, "gateway.tls.cert");
        string path;
        bool generated;
        try
        {
            path = SelfSignedCertificate.Ensure(settings.DataDirectory, bind, time.GetUtcNow(), out generated);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or PlatformNotSupportedException)
        {
            throw new GatewaySettingsException($"gateway.tls.auto: cannot keep a certificate in {Path.Combine(settings.DataDirectory, "tls")}: {ex.Message} (choose another directory with --data-dir or PRESENCE_GATEWAY_DATA_DIR).", "gateway.data-dir");
        }
        return Open(path, path, selfSigned: true, generated, time, "gateway.data-dir");
    }

    private static ServerCertificate Open(string certificatePath, string keyPath, bool selfSigned, bool generated, TimeProvider time, string key)
    {
        try
        {
            return new ServerCertificate(certificatePath, keyPath, selfSigned, generated, time);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new GatewaySettingsException($"Cannot use the TLS certificate {certificatePath} with key {keyPath}: {ex.Message}", key);
        }
    }

    /// <summary>What Kestrel's TLS handshake callback returns: the current certificate with its chain, HTTP/1.1 only.</summary>
    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = Current().Context,
        // The WebSocket upgrade is an HTTP/1.1 request: offering h2 would send browsers to WebSockets over HTTP/2.
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        ClientCertificateRequired = false,
    };

    private Loaded Current()
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _lastCheck)) < CheckInterval)
            return Volatile.Read(ref _current);
        lock (_gate)
        {
            if (_time.GetElapsedTime(_lastCheck) < CheckInterval)
                return _current;
            Volatile.Write(ref _lastCheck, _time.GetTimestamp());
            var stamp = FileStamp.Of(CertificatePath, KeyPath);
            if (stamp == _seen)
                return _current;
            // Remembered whether or not it loads: a broken file is reported once, and tried again when it changes.
            _seen = stamp;
            try
            {
                Volatile.Write(ref _current, Load(CertificatePath, KeyPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                ReloadFailed?.Invoke(ex);
                return _current;
            }
            Reloaded?.Invoke(_current.Fingerprint);
            return _current;
        }
    }

    /// <summary>
    /// The leaf with its key, and the certificates after it in the file as the chain sent to clients. Certificates
    /// replaced by a reload are left to the GC rather than disposed: open connections may still refer to them.
    /// </summary>
    private static Loaded Load(string certificatePath, string keyPath)
    {
        var leaf = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certificatePath);
        var chain = new X509Certificate2Collection();
        foreach (var certificate in all.Skip(1))
            chain.Add(certificate);
        return new Loaded(leaf, SslStreamCertificateContext.Create(leaf, chain, offline: true), CertificateFingerprint.Sha256(leaf));
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context, string Fingerprint);

    /// <summary>
    /// What says a file was replaced or rewritten. Links are followed to the file they end at, so a symlink swap
    /// (Kubernetes secrets, certbot's live/ directory) counts as a change even though the path's own link is untouched.
    /// </summary>
    private readonly record struct FileStamp(FileVersion Certificate, FileVersion Key)
    {
        public static FileStamp Of(string certificatePath, string keyPath) => new(FileVersion.Of(certificatePath), FileVersion.Of(keyPath));
    }

    private readonly record struct FileVersion(string Target, DateTime Written, long Length)
    {
        public static FileVersion Of(string path)
        {
            var file = new FileInfo(path);
            if (file.LinkTarget is not null)
                file = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
            return file.Exists ? new FileVersion(file.FullName, file.LastWriteTimeUtc, file.Length) : new FileVersion(file.FullName, default, -1);
        }
    }
}
