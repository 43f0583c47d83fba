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
from shared.platforms.youtube import atom
from shared.platforms.youtube.atom import ATOM_NS, YT_NS, scan_feed
from shared.platforms.youtube.feed import parse_feed
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


# --- the fast path for YouTube's shape ------------------------------------------------

MEDIA = "http://search.yahoo.com/mrss/"


def fast(content: bytes) -> list[tuple[str, str, str, str]] | None:
    """What the fast path reads, or None where it leaves the document to the tree."""
    try:
        if not atom._only_tags(content):
            return None
    except Exception:
        return None
    return atom._canonical(content)


def escaped(text: str) -> str:
    """Text as a feed may carry it: escaped, some characters as references."""
    out = []
    for i, ch in enumerate(text):
        if ch in "<&>\"'" or (ord(ch) > 127 and i % 3 == 0):
            out.append(f"&#{ord(ch)};" if i % 2 else f"&#x{ord(ch):x};")
        else:
            out.append(ch)
    return "".join(out).replace("&#38;", "&amp;", 1).replace("&#60;", "&lt;", 1)


xml_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
        lambda c: c in "\t\n\r" or ord(c) >= 0x20
    ),
    max_size=30,
)
media_child = st.sampled_from(
    ["<title>nested</title>", "<entry/>", "<yt:videoId>XXXXXXXXXXX</yt:videoId>",
     "<media:title>t</media:title>", '<media:content url="a>b" width="1"/>',
     "<media:community><media:starRating count='1'/></media:community>", "\n   "]
)  # fmt: skip


@st.composite
def youtube_feeds(draw: st.DrawFn) -> bytes:
    """Feeds of the shape YouTube writes, with arbitrary texts and media groups."""
    space = draw(st.sampled_from(["", "\n", "\n  ", "\r\n ", " \t"]))
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        video, title = draw(xml_text), draw(xml_text)
        published = draw(st.sampled_from(["2024-05-02T08:00:00+00:00", " 2024-05-02 ", ""]))
        group = "".join(draw(st.lists(media_child, max_size=4)))
        author = draw(st.sampled_from(["", "<author><name>n</name><uri>u</uri></author>"]))
        entries.append(
            f"<entry>{space}<id>yt:video:x</id>{space}<yt:videoId>{escaped(video)}</yt:videoId>"
            f"{space}<yt:channelId>{CHANNEL}</yt:channelId>{space}<title>{escaped(title)}</title>"
            f'{space}<link rel="alternate" href="https://y/?v=1&amp;t=2"/>{space}{author}{space}'
            f"<published>{published}</published>{space}<updated>u</updated>{space}"
            f"<media:group>{group}</media:group>{space}</entry>{space}"
        )
    declaration = draw(st.sampled_from(['<?xml version="1.0" encoding="UTF-8"?>\n', ""]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return (
        f'{bom}{declaration}<feed xmlns:yt="{YT_NS}" xmlns:media="{MEDIA}" xmlns="{ATOM_NS}">'
        f'{space}<link rel="self" href="x"/>{space}<id>yt:channel:x</id>{space}'
        f"<title>{escaped(draw(xml_text))}</title>{space}"
        f"<author>{space}<name>n</name>{space}<uri>u</uri>{space}</author>{space}"
        f"{''.join(entries)}</feed>{space}"
    ).encode()


def test_the_recorded_feed_takes_the_fast_path() -> None:
    content = FEED.encode()
    assert fast(content) == reference(content)
    assert fast(content) is not None


@given(youtube_feeds())
def test_youtube_shaped_feeds_read_on_the_fast_path_as_the_tree_did(content: bytes) -> None:
    expected = reference(content)
    if expected is None:  # e.g. a stray character XML refuses
        assert scanned(content) is None
        return
    assert fast(content) == expected
    assert scan_feed(content) == expected


@given(st.tuples(st.integers(0, len(FEED)), st.integers(0, 30), st.text(max_size=20)))
def test_the_fast_path_reads_what_the_tree_reads_or_leaves_it(
    cut: tuple[int, int, str],
) -> None:
    at, drop, insert = cut
    content = (FEED[:at] + insert + FEED[at + drop :]).encode()
    found = fast(content)
    if found is not None:
        assert found == reference(content)


@pytest.mark.parametrize(
    ("why", "body"),
    [
        ("a prefix bound elsewhere", FEED.replace("<entry>", f'<entry xmlns:v="{YT_NS}">', 1)
         .replace("<yt:videoId>", "<v:videoId>", 1).replace("</yt:videoId>", "</v:videoId>", 1)),
        ("a different prefix", FEED.replace("xmlns:yt=", "xmlns:y=").replace("yt:", "y:")),
        ("a comment", FEED.replace("<title>synthwave", "<title><!-- c -->synthwave")),
        ("CDATA", FEED.replace("<title>synthwave", "<title><![CDATA[<b>]]>synthwave")),
        ("a processing instruction", FEED.replace("<title>synthwave", "<title><?pi x?>synthwave")),
        ("fields in another order", FEED.replace(
            "<yt:videoId>4xDzrJKXOOY</yt:videoId>\n  <yt:channelId>UCSJ4gkVC6NrvII8umztf0Ow"
            "</yt:channelId>", "<yt:channelId>UCSJ4gkVC6NrvII8umztf0Ow</yt:channelId>\n  "
            "<yt:videoId>4xDzrJKXOOY</yt:videoId>")),
        ("a second title", FEED.replace("</title>", "</title><title>second</title>", 2)),
        ("no default namespace", FEED.replace(f' xmlns="{ATOM_NS}"', ' xmlns:a="x"')),
        ("UTF-16", FEED.replace('encoding="UTF-8"', 'encoding="UTF-16"')),
    ],
)  # fmt: skip
def test_other_shapes_are_left_to_the_tree_and_read_as_it_does(why: str, body: str) -> None:
    content = body.encode("utf-16") if "UTF-16" in why else body.encode()
    assert fast(content) is None, why
    assert scanned(content) == reference(content), why


def test_titles_with_references_line_ends_and_multibyte_text() -> None:
    title = " Tom &amp; Jerry&#39;s &#x1F3AE; caf\u00e9 &lt;live&gt;\r\nnow&#13;then "
    body = FEED.replace("synthwave radio 🌌 beats to chill/game to</title>", f"{title}</title>", 1)
    content = ("\ufeff" + body).encode()
    assert fast(content) is not None
    assert scan_feed(content) == reference(content)
    assert scan_feed(content)[0][2] == "Tom & Jerry's \U0001f3ae caf\u00e9 <live>\nnow\rthen"


def test_a_huge_feed_is_read_in_one_pass() -> None:
    head, _, rest = FEED.partition("<entry>")
    entry, _, tail = rest.partition("</entry>")
    content = (head + f"<entry>{entry}</entry>" * 5000 + tail.split("</entry>")[-1]).encode()
    found = fast(content)
    assert found is not None
    assert len(found) == 5000
    assert found == reference(content)


@pytest.mark.parametrize("cut", [100, 2000, -20, -8])
def test_a_truncated_youtube_feed_is_invalid(cut: int) -> None:
    with pytest.raises(InvalidResponse, match="not well-formed"):
        parse_feed(httpx.Response(200, content=FEED.encode()[:cut]), CHANNEL)
