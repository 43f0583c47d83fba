"""The channel feed's streaming scan: safe against entity tricks, and reading what
a full defusedxml tree would, on real and mangled feeds."""

from xml.etree.ElementTree import ParseError

import httpx
import pytest
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from hypothesis import given
from hypothesis import strategies as st

from shared.platforms.errors import InvalidResponse
from shared.platforms.youtube.feed import ATOM_NS, YT_NS, parse_feed, scan_feed
from tests.unit.platforms.support import fixture_bytes

CHANNEL = "UCSJ4gkVC6NrvII8umztf0Ow"
FEED = fixture_bytes("youtube", "feed.xml").decode()
ATOM, YT = f"{{{ATOM_NS}}}", f"{{{YT_NS}}}"


def reference(content: bytes) -> list[tuple[str, str, str, str]] | None:
    """What the feed parser read before: a whole defusedxml tree (None: refused)."""
    try:
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError):
        return None
    if root.tag != f"{ATOM}feed":
        return None

    def text(entry: object, tag: str) -> str:
        child = entry.find(tag)  # type: ignore[attr-defined]
        return (child.text or "").strip() if child is not None else ""

    return [
        (text(e, f"{YT}videoId"), text(e, f"{YT}channelId"), text(e, f"{ATOM}title"),
         text(e, f"{ATOM}published"))
        for e in root.findall(f"{ATOM}entry")
    ]  # fmt: skip


def scanned(content: bytes) -> list[tuple[str, str, str, str]] | None:
    try:
        return scan_feed(content)
    except Exception:  # any refusal (parse_feed maps the ones it may see)
        return None


def laughs(levels: int) -> bytes:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE feed [{"".join(entities)}]>'
        f'<feed xmlns="{ATOM_NS}"><entry><title>&l{levels - 1};</title></entry></feed>'
    ).encode()


def test_billion_laughs_is_refused_at_the_doctype() -> None:
    # 10**9 "lol"s if expanded (about 3 GB): refused before anything is expanded.
    response = httpx.Response(200, content=laughs(10))
    with pytest.raises(InvalidResponse, match="DTDForbidden"):
        parse_feed(response, CHANNEL)


@pytest.mark.parametrize(
    "body",
    [
        f'<!DOCTYPE feed SYSTEM "file:///etc/passwd"><feed xmlns="{ATOM_NS}"/>',
        f'<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed xmlns="{ATOM_NS}">'
        "<title>&x;</title></feed>",
        f'<!DOCTYPE feed [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>'
        f'<feed xmlns="{ATOM_NS}"/>',
        f'<feed xmlns="{ATOM_NS}"><title>&undeclared;</title></feed>',
        '<rss version="2.0"><channel/></rss>',
        f'<feed xmlns="{ATOM_NS}"><entry>',
        "",
    ],
)
def test_entity_tricks_and_non_feeds_are_invalid(body: str) -> None:
    with pytest.raises(InvalidResponse, match="channel feed"):
        parse_feed(httpx.Response(200, content=body.encode()), CHANNEL)


def test_the_recorded_feed_reads_as_the_tree_did() -> None:
    content = FEED.encode()
    assert scan_feed(content) == reference(content)
    assert len(scan_feed(content)) >= 3


def test_text_rules_match_elementtree() -> None:
    # Nested children, comments, CDATA, duplicate fields, entries out of place.
    body = (
        f'<feed xmlns="{ATOM_NS}" xmlns:yt="{YT_NS}"><entry>'
        "<yt:videoId> AAAAAAAAAAA <b>x</b>tail</yt:videoId><yt:videoId>BBBBBBBBBBB</yt:videoId>"
        "<title>a<!-- c -->b<![CDATA[<c>]]>&amp;d</title>"
        "<x><published>2024-01-01T00:00:00+00:00</published></x>"
        f"</entry><y><entry><yt:videoId>CCCCCCCCCCC</yt:videoId></entry></y></feed>"
    ).encode()
    assert scan_feed(body) == reference(body) == [("AAAAAAAAAAA", "", "ab<c>&d", "")]


@given(st.tuples(st.integers(0, len(FEED)), st.integers(0, 80), st.text(max_size=40)))
def test_mangled_feeds_read_as_the_tree_did(cut: tuple[int, int, str]) -> None:
    at, drop, insert = cut
    content = (FEED[:at] + insert + FEED[at + drop :]).encode()
    assert scanned(content) == reference(content)


@given(st.sampled_from(["utf-8", "utf-16", "iso-8859-1"]))
def test_declared_encodings(encoding: str) -> None:
    body = FEED.replace('encoding="UTF-8"', f'encoding="{encoding}"')
    try:
        content = body.encode(encoding)
    except UnicodeEncodeError:
        content = body.encode("utf-8").replace(b"UTF-8", b"utf-8")
    assert scanned(content) == reference(content)
