using System.Globalization;

namespace Presence.Gateway.Protocol;

/// <summary>The validator's wording, in one place so the whole protocol layer phrases a violation the same way.</summary>
internal static class SchemaMessages
{
    public const string MustBeObject = "must be object";
    public const string MustBeString = "must be string";
    public const string MustBeInteger = "must be integer";
    public const string MustBeNumber = "must be number";
    public const string MustBeArray = "must be array";
    public const string MustBeBoolean = "must be boolean";
    public const string MustBeConstant = "must be equal to constant";
    public const string MustBeAllowedValue = "must be equal to one of the allowed values";

    public static string Minimum(long limit) => string.Create(CultureInfo.InvariantCulture, $"must be >= {limit}");

    public static string MinLength(int limit) =>
        string.Create(CultureInfo.InvariantCulture, $"must NOT have fewer than {limit} characters");

    public static string MaxLength(int limit) =>
        string.Create(CultureInfo.InvariantCulture, $"must NOT have more than {limit} characters");
}
