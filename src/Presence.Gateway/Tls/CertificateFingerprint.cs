using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Presence.Gateway.Tls;

/// <summary>
/// SHA-256 over the certificate's DER bytes, written as <c>AB:CD:…</c> like <c>openssl x509 -fingerprint -sha256</c>
/// and Node's <c>fingerprint256</c>, which is what OpenClaw's client pins (<c>tlsFingerprint</c>).
/// </summary>
public static class CertificateFingerprint
{
    public static string Sha256(X509Certificate certificate) =>
        string.Join(':', Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(pair => new string(pair)));

    /// <summary>
    /// Reads a fingerprint as OpenClaw's client accepts it: 64 hex digits, with or without colons, with or without a
    /// <c>sha256:</c> prefix, any letter case. Null when it is none of these.
    /// </summary>
    public static byte[]? Parse(string? fingerprint)
    {
        var text = (fingerprint ?? "").Trim();
        if (text.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
            text = text[7..];
        if (text.Length == 95 && Enumerable.Range(1, 31).All(i => text[(i * 3) - 1] == ':'))
            text = text.Replace(":", "", StringComparison.Ordinal);
        return text.Length == 64 && text.All(char.IsAsciiHexDigit) ? Convert.FromHexString(text) : null;
    }

    /// <summary>
    /// A server-certificate check that accepts exactly the certificate with this fingerprint, whoever signed it and
    /// whatever names it carries: the way a self-signed gateway is trusted without a CA.
    /// </summary>
    public static RemoteCertificateValidationCallback Pin(byte[] sha256) =>
        (_, certificate, _, _) => certificate is not null
            && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(sha256);
}
