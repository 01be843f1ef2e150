using System.Security.Cryptography;
using System.Text;

namespace Presence.Gateway.Auth;

/// <summary>How a connect proves it may use the gateway.</summary>
public enum AuthMode
{
    None,
    Token,
    Password,
}

/// <summary>
/// The gateway's shared secret. Compared in constant time, and never printed:
/// <see cref="ToString"/> is redacted so that logging settings cannot leak it.
/// </summary>
public sealed class SharedSecret
{
    private readonly byte[] _digest;

    public SharedSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    /// <summary>Hashing both sides first makes the comparison independent of the candidate's length too.</summary>
    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(_digest, SHA256.HashData(Encoding.UTF8.GetBytes(candidate)));

    public override string ToString() => "<redacted>";
}
