namespace Presence.Gateway.Protocol;

/// <summary>Operator scopes (§3.4) and how they imply one another.</summary>
internal static class Scopes
{
    public const string Admin = "operator.admin";
    public const string Read = "operator.read";
    public const string Write = "operator.write";
    public const string Approvals = "operator.approvals";
    public const string Questions = "operator.questions";
    public const string Pairing = "operator.pairing";
    public const string Talk = "operator.talk";
    public const string TalkSecrets = "operator.talk.secrets";
    public const string SessionsRead = "operator.sessions.read";
    public const string SessionsWrite = "operator.sessions.write";

    /// <summary>Admin satisfies every scope; write also satisfies read and talk; anything else must be granted as is.</summary>
    public static bool Satisfies(IReadOnlyCollection<string> granted, string required)
    {
        ArgumentNullException.ThrowIfNull(granted);
        ArgumentNullException.ThrowIfNull(required);

        foreach (var scope in granted)
        {
            if (scope == required || scope == Admin)
                return true;
            if (scope == Write && required is Read or Talk)
                return true;
        }

        return false;
    }
}
