using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>pg_dump's key and foreign key definitions, read into the steps a parallel restore runs instead.</summary>
public sealed class KeyConstraintTests
{
    [Fact]
    public void APrimaryKeyBecomesAUniqueIndexUnderItsNameAndAnAttach()
    {
        var key = KeyConstraint.TryParse("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n")!;

        Assert.Equal("CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)", key.CreateIndex);
        Assert.Equal("ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey", key.Attach);
    }

    [Fact]
    public void IncludeNullsStorageAndTablespaceGoIntoTheIndexAndDeferrabilityIntoTheAttach()
    {
        var key = KeyConstraint.TryParse(
            "ALTER TABLE ONLY \"My Schema\".\"T;x\"\n    ADD CONSTRAINT \"u\"\"k\" UNIQUE NULLS NOT DISTINCT (a, \"B c\") INCLUDE (d) "
            + "WITH (fillfactor='70', deduplicate_items='off') USING INDEX TABLESPACE ts DEFERRABLE INITIALLY DEFERRED;\n")!;

        Assert.Equal(
            "CREATE UNIQUE INDEX \"u\"\"k\" ON \"My Schema\".\"T;x\" USING btree (a, \"B c\") INCLUDE (d) NULLS NOT DISTINCT "
            + "WITH (fillfactor='70', deduplicate_items='off') TABLESPACE ts",
            key.CreateIndex);
        Assert.Equal(
            "ALTER TABLE ONLY \"My Schema\".\"T;x\" ADD CONSTRAINT \"u\"\"k\" UNIQUE USING INDEX \"u\"\"k\" DEFERRABLE INITIALLY DEFERRED",
            key.Attach);
    }

    [Theory]
    [InlineData("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_excl EXCLUDE USING gist (c WITH &&);\n")]
    [InlineData("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_check CHECK ((a > 0));\n")]
    [InlineData("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\nALTER TABLE public.t CLUSTER ON t_pkey;\n")]
    [InlineData("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (lower(a));\n")]
    [InlineData("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id) WITH (fillfactor='70'\n")]
    [InlineData("ALTER FOREIGN TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n")]
    [InlineData("CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id);\n")]
    [InlineData("")]
    public void AnythingElseRunsAsWritten(string definition)
    {
        Assert.Null(KeyConstraint.TryParse(definition));
    }

    [Fact]
    public void APartitionedTableIsKnownByItsPartitionByClause()
    {
        Assert.True(KeyConstraint.IsPartitionedTable("CREATE TABLE public.p (\n    id integer NOT NULL\n)\nPARTITION BY RANGE (id);\n"));
        Assert.False(KeyConstraint.IsPartitionedTable("CREATE TABLE public.p (\n    id integer NOT NULL\n);\n"));
        Assert.False(KeyConstraint.IsPartitionedTable(null));
    }

    [Fact]
    public void AForeignKeyIsAddedNotValidThenValidatedOrDropped()
    {
        var fk = ForeignKey.TryParse(
            "ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES public.p(id) ON DELETE CASCADE DEFERRABLE;\n")!;

        Assert.Equal(
            "ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES public.p(id) ON DELETE CASCADE DEFERRABLE NOT VALID",
            fk.AddNotValid);
        Assert.Equal("ALTER TABLE ONLY public.c VALIDATE CONSTRAINT c_p_fkey", fk.Validate);
        Assert.Equal("ALTER TABLE ONLY public.c DROP CONSTRAINT c_p_fkey", fk.Drop);
    }

    [Theory]
    [InlineData("ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES public.p(id) NOT VALID;\n")]
    [InlineData("ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES public.p(id);\nSELECT 1;\n")]
    [InlineData("ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_pkey PRIMARY KEY (p);\n")]
    [InlineData("ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES public.p(id) NOT ENFORCED;\n")]
    public void AForeignKeyAlreadyNotValidOrFollowedByMoreRunsAsWritten(string definition)
    {
        Assert.Null(ForeignKey.TryParse(definition));
    }

    [Fact]
    public void ASemicolonInsideAQuotedNameIsNotTheStatementsEnd()
    {
        var fk = ForeignKey.TryParse("ALTER TABLE ONLY public.c\n    ADD CONSTRAINT \"a;b\" FOREIGN KEY (p) REFERENCES public.\"p;q\"(id);\n")!;

        Assert.Equal("ALTER TABLE ONLY public.c VALIDATE CONSTRAINT \"a;b\"", fk.Validate);
        Assert.EndsWith("REFERENCES public.\"p;q\"(id) NOT VALID", fk.AddNotValid);
    }
}
