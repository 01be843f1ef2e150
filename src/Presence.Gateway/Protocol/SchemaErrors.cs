namespace Presence.Gateway.Protocol;

/// <summary>
/// Collects schema violations and renders them the way the real gateway does: every violation,
/// de-duplicated, joined with <c>"; "</c> (the captures show several at once, e.g.
/// <c>must have required property 'method'; at root: unexpected property 'ok'; at /type: must be equal to constant</c>).
/// Paths are JSON pointers; the root has an empty path.
/// </summary>
internal sealed class SchemaErrors
{
    /// <summary>Caps the message a hostile frame can make us build (one error per array item otherwise).</summary>
    private const int MaxParts = 32;

    private List<string>? _parts;

    public bool Any => _parts is not null;

    public void At(string path, string message) => Add(path.Length == 0 ? message : $"at {path}: {message}");

    public void MissingProperty(string path, string name) => At(path, $"must have required property '{name}'");

    public void UnexpectedProperty(string path, string name) =>
        Add($"at {(path.Length == 0 ? "root" : path)}: unexpected property '{name}'");

    /// <summary>The full error text, e.g. <c>invalid connect params: at /client/id: ...</c>.</summary>
    public string Format(string prefix) => _parts is null ? prefix : prefix + string.Join("; ", _parts);

    private void Add(string part)
    {
        _parts ??= [];
        if (_parts.Count < MaxParts && !_parts.Contains(part))
            _parts.Add(part);
    }
}
