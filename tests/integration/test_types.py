"""The committed frontend types match the migrated schema."""

import psycopg

from localdev import supabase
from shared.platforms.registry import Platform


def test_committed_database_types_are_current(database_url: str) -> None:
    generated = supabase.generate_types(database_url)
    assert "export type Database" in generated
    committed = supabase.TYPES_TS.read_text() if supabase.TYPES_TS.is_file() else ""
    assert committed == generated, "supabase/types/database.ts is stale: run `make types`"


def test_the_platform_enum_is_the_database_enum(database_url: str) -> None:
    # A platform is one package plus its Platform member, and one enum migration.
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select enum_range(null::public.platform)::text[]").fetchone()
    assert row is not None
    assert row[0] == [p.value for p in Platform]
