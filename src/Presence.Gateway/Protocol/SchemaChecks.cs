using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using static Presence.Gateway.Protocol.SchemaMessages;

namespace Presence.Gateway.Protocol;

/// <summary>
/// Hand-rolled checks for the protocol's closed JSON schemas, mirroring the reference validator's
/// order so multi-error messages line up: per object first the first missing required property,
/// then the first unexpected one, then each declared property in schema order. A value of the
/// wrong type reports the type error, yet keeps the keyword checks that still apply to its actual
/// type (a string still gets its length and enum checks, a number its minimum).
/// Each reader returns the value when present and valid, otherwise <see langword="null"/>/empty;
/// callers only build results when <see cref="SchemaErrors.Any"/> is false.
/// </summary>
internal static class SchemaChecks
{
    /// <summary>
    /// Checks type, required and closedness of an object; false when it is not an object at all.
    /// <paramref name="known"/> lists the declared properties (matched without allocating a name per property).
    /// </summary>
    public static bool ClosedObject(
        JsonElement value, string path, ReadOnlySpan<string> known, ReadOnlySpan<string> required, SchemaErrors errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.At(path, MustBeObject);
            return false;
        }

        foreach (var name in required)
        {
            if (!value.TryGetProperty(name, out _))
            {
                errors.MissingProperty(path, name);
                break;
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            if (!IsDeclared(property, known))
            {
                errors.UnexpectedProperty(path, property.Name);
                break;
            }
        }

        return true;
    }

    /// <summary>Length limits count user-perceived characters (grapheme clusters), as the reference validator does.</summary>
    public static string? String(
        JsonElement owner, string parent, string name, SchemaErrors errors, int minLength = 0, int maxLength = int.MaxValue)
    {
        if (!owner.TryGetProperty(name, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.At(PathOf(parent, name), MustBeString);
            return null;
        }

        var text = value.GetString()!;
        // A string never has more graphemes than UTF-16 units, and a non-empty one has at least one:
        // most strings pass on their length alone, without the costly segmentation.
        if (text.Length <= maxLength && (minLength == 0 || (minLength == 1 && text.Length > 0)))
            return text;

        var length = GraphemeCount(text, maxLength == int.MaxValue ? minLength : maxLength + 1);
        if (length > maxLength)
            errors.At(PathOf(parent, name), MaxLength(maxLength));
        else if (length < minLength)
            errors.At(PathOf(parent, name), MinLength(minLength));
        else
            return text;
        return null;
    }

    /// <summary>A string literal such as the frame's <c>"type": "req"</c>.</summary>
    public static bool Constant(JsonElement owner, string parent, string name, string expected, SchemaErrors errors)
    {
        if (!owner.TryGetProperty(name, out var value))
            return false;
        if (value.ValueKind != JsonValueKind.String)
            errors.At(PathOf(parent, name), MustBeString);
        if (value.ValueKind == JsonValueKind.String && value.ValueEquals(expected))
            return true;
        errors.At(PathOf(parent, name), MustBeConstant);
        return false;
    }

    /// <summary>A closed set of values with no declared type, so anything outside the set gets the same message.</summary>
    public static string? Enum(JsonElement owner, string parent, string name, FrozenSet<string> allowed, SchemaErrors errors)
    {
        if (!owner.TryGetProperty(name, out var value))
            return null;
        if (value.ValueKind == JsonValueKind.String && allowed.TryGetValue(value.GetString()!, out var known))
            return known;
        errors.At(PathOf(parent, name), MustBeAllowedValue);
        return null;
    }

    /// <summary>
    /// An integral JSON number (<c>4.0</c> counts, as in JavaScript), saturated to <see cref="long"/>
    /// because the wire allows any magnitude.
    /// </summary>
    public static long? Integer(JsonElement owner, string parent, string name, long minimum, SchemaErrors errors)
    {
        if (!owner.TryGetProperty(name, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.Number)
        {
            errors.At(PathOf(parent, name), MustBeInteger);
            return null;
        }

        var number = value.GetDouble();
        var integral = double.IsFinite(number) && Math.Floor(number) == number;
        if (!integral)
            errors.At(PathOf(parent, name), MustBeInteger);
        if (number < minimum)
            errors.At(PathOf(parent, name), Minimum(minimum));
        return integral && number >= minimum ? Saturate(value, number) : null;
    }

    /// <summary>Any JSON number (<c>null</c> is not one), as a double; literals beyond its range read as infinities.</summary>
    public static double? Number(JsonElement owner, string parent, string name, SchemaErrors errors)
    {
        if (!owner.TryGetProperty(name, out var value))
            return null;
        if (value.ValueKind == JsonValueKind.Number)
            return value.GetDouble();
        errors.At(PathOf(parent, name), MustBeNumber);
        return null;
    }

    public static bool? Boolean(JsonElement owner, string parent, string name, SchemaErrors errors)
    {
        if (!owner.TryGetProperty(name, out var value))
            return null;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            return value.GetBoolean();
        errors.At(PathOf(parent, name), MustBeBoolean);
        return null;
    }

    /// <summary>An array of strings, each at least <paramref name="minItemLength"/> characters; empty when absent.</summary>
    public static ImmutableArray<string> StringArray(
        JsonElement owner, string parent, string name, SchemaErrors errors, int minItemLength = 0, int maxItemLength = int.MaxValue)
    {
        if (!owner.TryGetProperty(name, out var value))
            return [];
        var path = PathOf(parent, name);
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.At(path, MustBeArray);
            return [];
        }

        var items = ImmutableArray.CreateBuilder<string>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            if (text is null)
                errors.At(ItemPath(path, index), MustBeString);
            else if (text.Length < minItemLength)
                errors.At(ItemPath(path, index), MinLength(minItemLength));
            else if (text.Length > maxItemLength)
                errors.At(ItemPath(path, index), MaxLength(maxItemLength));
            else
                items.Add(text);
            index++;
        }

        return items.Count == items.Capacity ? items.MoveToImmutable() : [];
    }

    /// <summary>A map of arbitrary keys to booleans (the connect <c>permissions</c> record).</summary>
    public static void BooleanMap(JsonElement owner, string parent, string name, SchemaErrors errors)
    {
        if (!owner.TryGetProperty(name, out var value))
            return;
        var path = PathOf(parent, name);
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.At(path, MustBeObject);
            return;
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                errors.At(PathOf(path, entry.Name), MustBeBoolean);
        }
    }

    /// <summary>JSON-pointer child path; <c>~</c> and <c>/</c> in keys are escaped per RFC 6901.</summary>
    public static string PathOf(string parent, string name) =>
        parent + "/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string ItemPath(string path, int index) => path + "/" + index.ToString(CultureInfo.InvariantCulture);

    private static bool IsDeclared(JsonProperty property, ReadOnlySpan<string> known)
    {
        foreach (var name in known)
        {
            if (property.NameEquals(name))
                return true;
        }

        return false;
    }

    /// <summary>Counts grapheme clusters up to <paramref name="limit"/>, so a huge string costs no more than the limit.</summary>
    private static int GraphemeCount(ReadOnlySpan<char> text, int limit)
    {
        var count = 0;
        while (!text.IsEmpty && count < limit)
        {
            text = text[StringInfo.GetNextTextElementLength(text)..];
            count++;
        }

        return count;
    }

    private static long Saturate(JsonElement value, double number) =>
        value.TryGetInt64(out var exact) ? exact
        : number >= long.MaxValue ? long.MaxValue
        : number <= long.MinValue ? long.MinValue
        : (long)number;
}
