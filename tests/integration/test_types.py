"""The committed frontend types match the migrated schema."""

from localdev import supabase


def test_committed_database_types_are_current(database_url: str) -> None:
    generated = supabase.generate_types(database_url)
    assert "export type Database" in generated
    committed = supabase.TYPES_TS.read_text() if supabase.TYPES_TS.is_file() else ""
    assert committed == generated, "supabase/types/database.ts is stale: run `make types`"
