using System.Text;

namespace Presence.Gateway.Transport;

internal static class CloseReasons
{
    /// <summary>A close reason is at most 120 UTF-8 bytes on this protocol (123 by RFC 6455), cut on a character boundary.</summary>
    public static string Truncate(string reason)
    {
        const int MaxBytes = 120;
        if (Encoding.UTF8.GetByteCount(reason) <= MaxBytes)
            return reason;
        var length = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxBytes)
            length--;
        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
            length--;
        return reason[..length];
    }
}
