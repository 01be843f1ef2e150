using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Presence.Gateway.Tls;

/// <summary>
/// The certificate of <c>--tls-auto</c>: self-signed, for the host name and the addresses the gateway is bound to,
/// kept with its key in one PEM file under <c>&lt;data-dir&gt;/tls/</c> (directory 0700, file 0600) and reused on
/// every start, so that a client's pinned fingerprint stays valid across restarts.
/// </summary>
public static class SelfSignedCertificate
{
    public const string FileName = "gateway-tls.pem";

    /// <summary>Long, because clients pin it rather than trust a CA; a new one would break every pin.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(3650);

    /// <summary>An expiring certificate is replaced this early, so that no start-up serves one that is about to lapse.</summary>
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// The PEM file's path, after creating it when it is missing or about to expire (<paramref name="created"/> then
    /// true). Two gateways sharing the directory and starting together end up with the same certificate: the file
    /// appears by one atomic rename that does not overwrite, and the loser uses the winner's file.
    /// </summary>
    public static string Ensure(string dataDirectory, IPAddress bind, DateTimeOffset now, out bool created)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("--tls-auto keeps its key owner-only by Unix file modes; on Windows pass --tls-cert and --tls-key");
        if (!Directory.Exists(dataDirectory))
            Directory.CreateDirectory(dataDirectory, OwnerOnlyDirectory);
        var directory = Path.Combine(dataDirectory, "tls");
        Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        // CreateDirectory keeps the mode of a directory that already existed; the key must not be listable by others.
        File.SetUnixFileMode(directory, OwnerOnlyDirectory);
        var path = Path.Combine(directory, FileName);
        created = false;
        if (File.Exists(path))
        {
            File.SetUnixFileMode(path, OwnerOnlyFile);
            using var existing = X509Certificate2.CreateFromPemFile(path);
            if (existing.NotAfter.ToUniversalTime() - RenewBefore > now.UtcDateTime)
                return path;
        }
        var temporary = Path.Combine(directory, $".{FileName}.{Guid.NewGuid():N}");
        using (var file = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile }))
        using (var writer = new StreamWriter(file))
            writer.Write(Generate(bind, now));
        try
        {
            File.Move(temporary, path, overwrite: File.Exists(path));
            created = true;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
        }
        return path;
    }

    /// <summary>A P-256 key (fast handshakes, accepted by every client here) and a certificate for <see cref="SubjectNames"/>.</summary>
    private static string Generate(IPAddress bind, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (host, dnsNames, addresses) = SubjectNames(bind);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={host}, O=Presence gateway (self-signed)"), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
            names.AddDnsName(name);
        foreach (var address in addresses)
            names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + Lifetime);
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>
    /// The host name, <c>localhost</c>, and the addresses clients may dial: the bound one, or every address of every
    /// interface that is up when the gateway listens on all of them, loopback included.
    /// </summary>
    public static (string Host, IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> Addresses) SubjectNames(IPAddress bind)
    {
        var host = Dns.GetHostName();
        var dnsNames = new[] { host, "localhost" }.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        IEnumerable<IPAddress> addresses = bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any)
            ? NetworkInterface.GetAllNetworkInterfaces()
                .Where(nic => nic.OperationalStatus == OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                .SelectMany(nic => nic.GetIPProperties().UnicastAddresses.Select(unicast => unicast.Address))
                .Where(address => address.AddressFamily == AddressFamily.InterNetwork || (address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal))
            : [bind];
        return (host, dnsNames, addresses.Append(IPAddress.Loopback).Distinct().ToList());
    }
}
