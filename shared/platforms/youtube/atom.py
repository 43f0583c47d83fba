"""Reading a channel feed's entries (untrusted Atom XML) at C speed, safely.

`scan_feed` returns what ElementTree would read: for each top-level <entry>,
its first yt:videoId, yt:channelId, title and published child's text,
stripped (`entry.find(tag).text`). A DOCTYPE is refused where it starts, so
no entity is ever declared or expanded and none fetched. Two ways:

- The shape YouTube writes (`_canonical`): expat checks the whole document,
  namespaces included, calling into Python only for its three namespace
  declarations (`_only_tags`); then one regular expression per entry reads
  the four fields. It applies only where a regular expression reads exactly
  what the tree would: UTF-8, no comment, CDATA section, processing
  instruction or DOCTYPE (so every `<` starts a tag), no namespace declared
  but the feed's three on its root, and entries whose children come in
  YouTube's order. A document of any other shape is read by the tree.
- Anything else (`_tree`): expat reads the prolog alone, refusing a DOCTYPE,
  then C ElementTree builds the tree, its callbacks never entering Python.

Malformed XML raises ExpatError or ElementTree.ParseError; a DOCTYPE,
DTDForbidden; a root that is no Atom <feed>, NotAtom.
"""

import re
from xml.etree import ElementTree
from xml.parsers import expat

from defusedxml import DTDForbidden

ATOM_NS = "http://www.w3.org/2005/Atom"
YT_NS = "http://www.youtube.com/xml/schemas/2015"
MEDIA_NS = "http://search.yahoo.com/mrss/"

Entry = tuple[str, str, str, str]
"""(video id, channel id, title, published), as the feed has them."""


class NotAtom(ValueError):
    """The document's root is not an Atom <feed>."""


def scan_feed(content: bytes) -> list[Entry]:
    """Each top-level entry's (video id, channel id, title, published), in document order."""
    if _only_tags(content) and (found := _canonical(content)) is not None:
        return found
    return _tree(content)


# --- the general case: C ElementTree --------------------------------------------------

_FEED = f"{{{ATOM_NS}}}feed"
_ENTRY = f"{{{ATOM_NS}}}entry"
_FIELDS = (f"{{{YT_NS}}}videoId", f"{{{YT_NS}}}channelId", f"{{{ATOM_NS}}}title",
           f"{{{ATOM_NS}}}published")  # fmt: skip


class _RootReached(Exception):
    """The prolog is over: the root element starts."""


def _refuse_dtd(name: str, sysid: str | None, pubid: str | None, _internal: int) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _root_reached(_name: str, _attributes: object) -> None:
    raise _RootReached


def _refuse_doctype(content: bytes) -> None:
    """Raise DTDForbidden if the document has a DOCTYPE, reading no further than its root.

    A DOCTYPE is only allowed in the prolog, before the root element (anywhere
    else the document is not well-formed, which the full parse reports). Expat
    stops where the root starts, or at the DOCTYPE's first byte: nothing of a
    DTD is read.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.StartElementHandler = _root_reached
    try:
        parser.Parse(content, True)
    except _RootReached:
        return


def _tree(content: bytes) -> list[Entry]:
    _refuse_doctype(content)
    # Without a DTD no entity but XML's five and character references can appear;
    # an undeclared one is a syntax error.
    parser = ElementTree.XMLParser()
    parser.feed(content)
    root = parser.close()
    if root.tag != _FEED:
        raise NotAtom(root.tag)
    found = []
    for entry in root.iterfind(_ENTRY):
        texts = [entry.find(tag) for tag in _FIELDS]
        video_id, channel, title, published = (
            (child.text or "").strip() if child is not None else "" for child in texts
        )
        found.append((video_id, channel, title, published))
    return found


# --- the shape YouTube writes: expat's check, then regular expressions ----------------

_DECLARED = (f'xmlns:yt="{YT_NS}"', f'xmlns:media="{MEDIA_NS}"', f'xmlns="{ATOM_NS}"')
_ROOT = tuple(
    f"<feed {' '.join(_DECLARED[i] for i in order)}>" for order in ((0, 1, 2), (0, 2, 1), (2, 0, 1))
)
"""The root tags read this way (YouTube's first): the document's only namespace
declarations, so every prefix below means what it means here."""


def _only_tags(content: bytes) -> bool:
    """Check the whole document is well-formed, namespaces included (an unbound
    prefix is an error, as for the tree), and refuse a DOCTYPE where it starts.

    True when its markup is tags alone: no comment, CDATA section or processing
    instruction (so every `<` starts a tag) and three namespace declarations at
    most (the root's, when `_HEAD` matches it). Those handlers are called only when
    such markup occurs: YouTube's feeds are checked with three calls into Python.
    """
    seen = [0]

    def declared(_prefix: str | None, _uri: str | None) -> None:
        seen[0] += 1

    def other(*_args: object) -> None:
        seen[0] += 100

    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.StartNamespaceDeclHandler = declared
    parser.CommentHandler = other
    parser.StartCdataSectionHandler = other
    parser.ProcessingInstructionHandler = other
    parser.Parse(content, True)
    return seen[0] <= len(_DECLARED)


_S = r"[ \t\r\n]*"
_ATTRS = r"""(?:[ \t\r\n]+[^\s=/>]+[ \t\r\n]*=[ \t\r\n]*(?:"[^"]*"|'[^']*'))*[ \t\r\n]*"""
"""A start tag's attributes (a value holds no `<`, but may hold `>`)."""
_NAME = r"[^\s/>]+"
_LEAF = rf"<{_NAME}{_ATTRS}(?:/>|>[^<]*</{_NAME}[ \t\r\n]*>)"
"""An element without children (its end tag is its start's: expat checked)."""
_PARENT = rf"<{_NAME}{_ATTRS}>{_S}(?:{_LEAF}{_S})*</{_NAME}[ \t\r\n]*>"
"""An element of leaves (no text between them but white space)."""
_HEAD = re.compile(
    rf"\ufeff?(?:<\?xml version=\"1\.[0-9]\"(?: encoding=\"(?i:utf-8)\")?{_S}\?>)?{_S}"
    rf"(?:{'|'.join(re.escape(root) for root in _ROOT)}){_S}"
    # The feed's own elements: leaves, or elements of leaves; none an <entry>.
    rf"(?:(?!<entry[\s/>])(?:{_LEAF}|{_PARENT}){_S})*"
)
_TEXT = r"([^<]*)"
_ENTRY_RE = re.compile(
    rf"<entry>{_S}"
    rf"<id>[^<]*</id>{_S}"
    rf"<yt:videoId>{_TEXT}</yt:videoId>{_S}"
    rf"<yt:channelId>{_TEXT}</yt:channelId>{_S}"
    rf"<title>{_TEXT}</title>{_S}"
    rf"(?:<link{_ATTRS}/>{_S})*"
    rf"(?:<author>{_S}(?:{_LEAF}{_S})*</author>{_S})?"
    rf"<published>{_TEXT}</published>{_S}"
    rf"(?:<updated>[^<]*</updated>{_S})?"
    # Anything inside media:group but another media:group: its first end tag is its own.
    rf"(?:<media:group{_ATTRS}>[^<]*(?:<(?!/?media:group[\s/>])[^<]*)*</media:group>{_S})?"
    rf"</entry>{_S}"
)
"""An entry as YouTube writes it: the four fields once each, in this order."""
_END = re.compile(rf"</feed>{_S}")
_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|apos|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}


def _character(match: re.Match[str]) -> str:
    hex_code, code, name = match.groups()
    if name is not None:
        return _NAMED[name]
    return chr(int(hex_code, 16) if hex_code is not None else int(code))


def _text(raw: str) -> str:
    """Character data as XML reads it: line ends normalised, then references replaced
    (expat accepted the document, so each `&` starts one of those), then stripped."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in raw:
        raw = _REFERENCE.sub(_character, raw)
    return raw.strip()


def _canonical(content: bytes) -> list[Entry] | None:
    """The entries of a document of YouTube's shape, once `_only_tags` found it
    well-formed and tags alone; None for another shape."""
    try:
        document = content.decode("utf-8")  # an encoding declared otherwise: _HEAD refuses
    except UnicodeDecodeError:
        return None
    head = _HEAD.match(document)
    if head is None:
        return None
    found, at = [], head.end()
    while (entry := _ENTRY_RE.match(document, at)) is not None:
        video_id, channel, title, published = entry.groups()
        found.append((_text(video_id), _text(channel), _text(title), _text(published)))
        at = entry.end()
    end = _END.match(document, at)
    if end is None or end.end() != len(document):
        return None
    return found
