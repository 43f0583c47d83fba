"""When two email addresses are the same address: the rule invitations use.

An invitation is accepted only by a signed-in user whose confirmed address is
the invited one. The database decides (`public.email_address_key` in the
tenancy migration, used by `accept_team_invitation`, the one-open-invitation
index and the "already a member / already invited" checks); this module is the
same rule in Python, the source the SQL mapping table is generated from
(`sql_lowercase_arguments`), and what the tests hold the SQL function to.

The key of an address is NFC(simple_lowercase(NFC(address))):

- NFC, Unicode canonical composition: canonically equivalent strings are the
  same string (RFC 6532 asks for NFC in addresses). NFD `e` + U+0301 equals
  U+00E9, and the singletons fold into the letters they stand for: U+212A
  KELVIN SIGN is `K`, U+212B ANGSTROM SIGN is `Å`.
- Unicode *simple* lowercase mapping, one code point to one (UnicodeData.txt's
  lowercase field), exactly what Supabase Auth applies to every address it
  stores (Go's `strings.ToLower`): `Kate@Example.COM` is `kate@example.com`,
  U+00C9 is U+00E9, capital sharp s U+1E9E is U+00DF, U+0130 (I with dot
  above) is `i`. Supabase Auth cannot hold two accounts whose addresses differ
  only this way, so matching them adds no ambiguity.
- Nothing else: no compatibility forms (NFKC), no full case folding, no
  look-alike folding. Sharp s U+00DF is not `ss` (`strasse` and its sharp-s
  spelling are different mailboxes), dotless i U+0131 is not `i`, long s
  U+017F is not `s`, fullwidth U+FF4B is not `k`, Cyrillic U+0430 is not
  Latin `a`, `xn--` domains are not their Unicode forms. A refusal there is
  recoverable (invite the exact address); a false match would hand a team
  to someone else's mailbox.
- No trimming: addresses are compared as stored.

Acceptance also requires `auth.users.email_confirmed_at`: the account proved
it receives mail at its address.
"""

import unicodedata
from collections.abc import Iterator
from functools import lru_cache

# Full lowercase mappings that are not the simple one: Python's str.lower() uses
# SpecialCasing.txt, where only U+0130 lowercases to two code points.
_SIMPLE_OVERRIDES = {"\u0130": "i"}


@lru_cache(maxsize=1)
def lowercase_table() -> dict[int, str]:
    """Every code point whose simple lowercase mapping is another code point."""
    table: dict[int, str] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        lower = _SIMPLE_OVERRIDES.get(char, char.lower())
        if lower != char and len(lower) == 1:
            table[cp] = lower
    return table


def address_key(address: str) -> str:
    """The form two addresses are compared in: equal keys, same address."""
    composed = unicodedata.normalize("NFC", address)
    return unicodedata.normalize("NFC", composed.translate(lowercase_table()))


def same_address(a: str, b: str) -> bool:
    return address_key(a) == address_key(b)


def _escape(char: str) -> str:
    cp = ord(char)
    return f"\\{cp:04X}" if cp <= 0xFFFF else f"\\+{cp:06X}"


def _lines(chars: list[str], per_line: int) -> Iterator[str]:
    for start in range(0, len(chars), per_line):
        chunk = chars[start : start + per_line]
        yield "U&'" + "".join(_escape(c) for c in chunk) + "'"


def sql_lowercase_arguments(per_line: int = 12) -> tuple[str, str]:
    """The `from` and `to` arguments of `translate()` in `public.email_address_key`,
    as concatenated U&'' literals (ASCII only), one line per `per_line` code points."""
    table = lowercase_table()
    sources = [chr(cp) for cp in sorted(table)]
    targets = [table[ord(c)] for c in sources]
    joiner = "\n    || "
    return joiner.join(_lines(sources, per_line)), joiner.join(_lines(targets, per_line))
