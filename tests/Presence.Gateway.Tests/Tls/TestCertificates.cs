using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Presence.Gateway.Tests.Tls;

/// <summary>Certificates a test hands to the gateway as PEM files, as an operator would from their CA or certbot.</summary>
internal static class TestCertificates
{
    /// <summary>A fresh certificate for 127.0.0.1 written to <paramref name="certificatePath"/> and <paramref name="keyPath"/>; returns it.</summary>
    public static X509Certificate2 Write(string certificatePath, string keyPath, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        // Key first: a reader that sees the new certificate must find its key already there.
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        return certificate;
    }

    /// <summary>Configuration for <c>--tls-auto</c> keeping its certificate in <paramref name="dataDirectory"/>.</summary>
    public static string AutoTls(string dataDirectory) => $"gateway.tls.auto = on\ngateway.data-dir = \"{dataDirectory}\"";

    /// <summary>The certificate <c>--tls-auto</c> made in <paramref name="dataDirectory"/>.</summary>
    public static X509Certificate2 Generated(string dataDirectory) =>
        X509Certificate2.CreateFromPemFile(System.IO.Path.Combine(dataDirectory, "tls", Presence.Gateway.Tls.SelfSignedCertificate.FileName));

    /// <summary>A scratch directory removed on dispose.</summary>
    public static TemporaryDirectory TemporaryDirectory() => new(Directory.CreateTempSubdirectory("presence-tls-").FullName);
}

internal sealed class TemporaryDirectory(string path) : IDisposable
{
    public string Path { get; } = path;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
