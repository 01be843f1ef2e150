using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Protocol;

public sealed class ScopesSpecs
{
    [Theory]
    [InlineData(new[] { Scopes.Admin }, Scopes.Read, true)]
    [InlineData(new[] { Scopes.Admin }, Scopes.TalkSecrets, true)]
    [InlineData(new[] { Scopes.Admin }, "operator.anything", true)]
    [InlineData(new[] { Scopes.Write }, Scopes.Read, true)]
    [InlineData(new[] { Scopes.Write }, Scopes.Talk, true)]
    [InlineData(new[] { Scopes.Write }, Scopes.Write, true)]
    [InlineData(new[] { Scopes.Write }, Scopes.Admin, false)]
    [InlineData(new[] { Scopes.Write }, Scopes.TalkSecrets, false)]
    [InlineData(new[] { Scopes.Write }, Scopes.Pairing, false)]
    [InlineData(new[] { Scopes.Read }, Scopes.Read, true)]
    [InlineData(new[] { Scopes.Read }, Scopes.Write, false)]
    [InlineData(new[] { Scopes.Read }, Scopes.Admin, false)]
    [InlineData(new[] { Scopes.Talk }, Scopes.Read, false)]
    [InlineData(new[] { Scopes.Pairing, Scopes.Approvals }, Scopes.Approvals, true)]
    [InlineData(new string[0], Scopes.Read, false)]
    [InlineData(new[] { "OPERATOR.ADMIN" }, Scopes.Read, false)]
    public void Should_apply_the_scope_implications(string[] granted, string required, bool satisfied)
    {
        Assert.Equal(satisfied, Scopes.Satisfies(granted, required));
    }
}
