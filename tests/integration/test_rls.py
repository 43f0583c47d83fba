"""Row level security as the app meets it: through `Database.user(claims)`."""

import psycopg
from psycopg import sql

from shared.db import Database
from tests.factories.users import claims_for, create_user

# Reference data every client may read.
PUBLIC_CATALOGUE = {"plans"}


def public_tables(database: Database) -> list[str]:
    with database.service() as conn:
        rows = conn.execute(
            """
            select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1
            """
        ).fetchall()
    return [name for (name,) in rows]


def test_every_public_table_has_rls(database: Database) -> None:
    with database.service() as conn:
        unprotected = conn.execute(
            """
            select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
            """
        ).fetchall()
    assert unprotected == []


def test_a_user_without_a_team_reads_nothing(database: Database) -> None:
    tables = public_tables(database)
    assert len(tables) >= 10
    user_id = create_user(database)
    seen: dict[str, int | str] = {}
    for table in sorted(set(tables) - PUBLIC_CATALOGUE):
        query = sql.SQL("select count(*) from public.{}").format(sql.Identifier(table))
        try:
            with database.user(claims_for(user_id)) as conn:
                row = conn.execute(query).fetchone()
                seen[table] = row[0] if row else 0
        except psycopg.errors.InsufficientPrivilege:
            seen[table] = "no privilege"
    assert {t: n for t, n in seen.items() if n not in (0, "no privilege")} == {}


def test_anon_reads_nothing_but_the_plan_catalogue(database: Database) -> None:
    for table in public_tables(database):
        query = sql.SQL("select count(*) from public.{}").format(sql.Identifier(table))
        try:
            with database.user({"role": "anon"}) as conn:
                row = conn.execute(query).fetchone()
        except psycopg.errors.InsufficientPrivilege:
            continue
        count = row[0] if row else 0
        assert (count > 0) == (table in PUBLIC_CATALOGUE), table
