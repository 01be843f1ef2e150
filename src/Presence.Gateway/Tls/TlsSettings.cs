namespace Presence.Gateway.Tls;

/// <summary>
/// <c>gateway.tls</c>: a certificate and key given as PEM files, or, with <see cref="Auto"/> and no files given, a
/// self-signed certificate kept in <see cref="DataDirectory"/>. Null in the gateway's settings means plain ws:// and http://.
/// </summary>
/// <param name="CertificatePath">PEM certificate, optionally followed by its chain; null with <see cref="Auto"/>.</param>
/// <param name="KeyPath">PEM private key (may be the certificate file itself); null with <see cref="Auto"/>.</param>
/// <param name="Auto">Generate a self-signed certificate on first start and reuse it afterwards.</param>
/// <param name="DataDirectory">Where a generated certificate is kept (under <c>tls/</c>, owner-only).</param>
public sealed record TlsSettings(string? CertificatePath, string? KeyPath, bool Auto, string DataDirectory);
