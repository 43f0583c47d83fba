"""The address rule of invitations (shared/teams/addresses.py), table-tested;
tests/integration/test_addresses.py holds the database's copy to it."""

import re
from pathlib import Path

import pytest

from shared.teams.addresses import address_key, same_address, sql_lowercase_arguments

TENANCY = Path("supabase/migrations/20261124120000_tenancy.sql")

SAME = [
    ("Kate@Example.COM", "kate@example.com"),
    ("\u212aate@example.com", "kate@example.com"),  # KELVIN SIGN is K (NFC)
    ("\u212bngstr\u00f6m@example.com", "\u00e5ngstr\u00f6m@example.com"),  # ANGSTROM SIGN
    ("jose\u0301@example.com", "jos\u00e9@example.com"),  # NFD = NFC
    ("\u00c9LODIE@example.com", "\u00e9lodie@example.com"),  # non-ASCII capitals
    ("\u1e9e@example.com", "\u00df@example.com"),  # capital sharp s
    ("\u0130pek@example.com", "ipek@example.com"),  # simple mapping of U+0130, as Go's
    ("\u03a3\u039f\u03a6\u0399\u0391@example.com", "\u03c3\u03bf\u03c6\u03b9\u03b1@example.com"),
    ("\u0130\u0301x@example.com", "\u00edx@example.com"),  # lowered, then composed again
]
DIFFERENT = [
    ("stra\u00dfe@example.com", "strasse@example.com"),  # no full case folding
    ("\u0131lke@example.com", "ilke@example.com"),  # dotless i
    ("\u017fam@example.com", "sam@example.com"),  # long s
    ("\uff4bate@example.com", "kate@example.com"),  # fullwidth k (no NFKC)
    ("\u0430nna@example.com", "anna@example.com"),  # Cyrillic a
    ("\u00b5@example.com", "\u03bc@example.com"),  # micro sign is not mu
    ("\u03c2@example.com", "\u03c3@example.com"),  # final sigma stays final
    ("kate@xn--bcher-kva.example", "kate@b\u00fccher.example"),  # no IDNA
    (" kate@example.com", "kate@example.com"),  # no trimming
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_the_same_address_in_another_form_matches(a: str, b: str) -> None:
    assert same_address(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_a_look_alike_of_another_mailbox_does_not(a: str, b: str) -> None:
    assert not same_address(a, b)


def test_the_key_is_idempotent() -> None:
    for a, b in SAME + DIFFERENT:
        for text in (a, b):
            assert address_key(address_key(text)) == address_key(text)


def test_the_migration_carries_the_generated_mapping() -> None:
    """The translate() arguments in email_address_key are this module's table: after
    a Python or Unicode upgrade changes it, regenerate them from
    `sql_lowercase_arguments()` (between the lowercase-from/-to markers)."""
    text = TENANCY.read_text()
    found = {
        name: re.search(
            rf"-- lowercase-{name}:begin\n\s*(.*?),?\n\s*-- lowercase-{name}:end", text, re.S
        )
        for name in ("from", "to")
    }
    assert all(found.values()), "markers missing in the tenancy migration"
    sources, targets = sql_lowercase_arguments()
    assert found["from"] is not None
    assert found["to"] is not None

    def squash(sql: str) -> str:
        return re.sub(r"\s+", " ", sql).strip().rstrip(",").removesuffix(")")

    assert squash(found["from"].group(1)) == squash(sources)
    assert squash(found["to"].group(1)) == squash(targets)
