"""The database compares invitation addresses (public.email_address_key) exactly
as shared/teams/addresses.py says: the same key for every code point that has a
case mapping or a canonical decomposition, and for random mixed strings."""

import random
import unicodedata

from shared.db import Database
from shared.teams.addresses import address_key


def _interesting() -> list[str]:
    """Every code point with a case mapping either way or a canonical decomposition
    (NUL and surrogates cannot be text)."""
    chars = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if c.lower() != c or c.upper() != c or unicodedata.decomposition(c)[:1] not in ("", "<"):
            chars.append(c)
    return chars


def _keys_in_sql(database: Database, texts: list[str]) -> list[str]:
    with database.service() as conn:
        rows = conn.execute(
            "select public.email_address_key(t) from unnest(%s::text[]) with ordinality as u(t, n)"
            " order by n",
            (texts,),
        ).fetchall()
    return [row[0] for row in rows]


def test_every_cased_or_decomposable_code_point_gets_the_python_key(database: Database) -> None:
    chars = _interesting()
    assert len(chars) > 2800
    mismatched = [
        (f"U+{ord(c):04X}", sql, address_key(c))
        for c, sql in zip(chars, _keys_in_sql(database, chars), strict=True)
        if sql != address_key(c)
    ]
    assert mismatched == []


def test_random_addresses_get_the_python_key(database: Database) -> None:
    rng = random.Random(20261124)
    pool = [*_interesting(), *"abcxyzABCXYZ0129.+-_@", "\u0301", "\u0307", "\u0308", "\u00df"]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 24))) for _ in range(3000)]
    assert _keys_in_sql(database, texts) == [address_key(t) for t in texts]
