"""ASP.NET Core route templates, as the Functions host matches HTTP routes.

A template is `/`-separated segments. A segment is a literal (matched without
regard to case), a parameter `{name}`, or a mix such as `{file}.{ext}`. A
parameter may carry constraints (`{id:guid}`, `{n:int:min(1)}`,
`{code:regex(^[a-z]{{2}}$)}`), be optional (`{x?}`), have a default (`{x=1}`)
or catch the rest of the path (`{*rest}`). When several templates match, the
most specific wins: literal before constrained parameter before parameter
before catch-all, segment by segment (ASP.NET's inbound route precedence).
"""

import itertools
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")


class RouteTemplateError(ValueError):
    """A route template the host would refuse to register."""


def _int_in(bits: int) -> Callable[[str], bool]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: str) -> bool:
        return re.fullmatch(r"[+-]?\d+", value) is not None and low <= int(value) <= high

    return check


def _is_float(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_SIMPLE: dict[str, Callable[[str], bool]] = {
    "int": _int_in(32),
    "long": _int_in(64),
    "float": _is_float,
    "double": _is_float,
    "decimal": _is_float,
    "bool": lambda v: v.lower() in ("true", "false"),
    "guid": _is_guid,
    "datetime": _is_datetime,
    "alpha": lambda v: re.fullmatch("[A-Za-z]+", v) is not None,
    "required": lambda v: v != "",
}


def _constraint(text: str) -> Callable[[str], bool]:
    """A predicate for one constraint such as `int`, `min(1)`, `regex(^a+$)`."""
    match = re.fullmatch(r"(\w+)(?:\((.*)\))?", text, re.DOTALL)
    if not match:
        raise RouteTemplateError(f"bad route constraint {text!r}")
    name, arg = match[1].lower(), match[2]
    if arg is None and name in _SIMPLE:
        return _SIMPLE[name]
    if arg is None:
        raise RouteTemplateError(f"unknown route constraint {text!r}")
    if name == "regex":
        pattern = re.compile(arg, re.IGNORECASE)  # unanchored, like RegexRouteConstraint
        return lambda v: pattern.search(v) is not None
    try:
        nums = [int(a) for a in arg.split(",")]
    except ValueError:
        raise RouteTemplateError(f"bad route constraint {text!r}") from None
    is_long = _SIMPLE["long"]
    checks: dict[tuple[str, int], Callable[[str], bool]] = {
        ("minlength", 1): lambda v: len(v) >= nums[0],
        ("maxlength", 1): lambda v: len(v) <= nums[0],
        ("length", 1): lambda v: len(v) == nums[0],
        ("length", 2): lambda v: nums[0] <= len(v) <= nums[1],
        ("min", 1): lambda v: is_long(v) and int(v) >= nums[0],
        ("max", 1): lambda v: is_long(v) and int(v) <= nums[0],
        ("range", 2): lambda v: is_long(v) and nums[0] <= int(v) <= nums[1],
    }
    if (name, len(nums)) not in checks:
        raise RouteTemplateError(f"unknown route constraint {text!r}")
    return checks[(name, len(nums))]


@dataclass
class Parameter:
    name: str
    constraints: list[Callable[[str], bool]] = field(default_factory=list)
    optional: bool = False
    default: str | None = None
    catch_all: bool = False

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.constraints)


def _split_constraints(body: str) -> list[str]:
    """Split `name:c1:c2(a:b)` on the colons outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == ":" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return parts


def _parameter(body: str) -> Parameter:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    if optional:
        body = body[:-1]
    default = None
    # `=default` comes after the constraints, outside any parentheses.
    depth = 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "=" and depth == 0:
            body, default = body[:i], body[i + 1 :]
            break
    name, *constraints = _split_constraints(body)
    if not re.fullmatch(r"\w+", name):
        raise RouteTemplateError(f"bad route parameter name {name!r}")
    return Parameter(
        name=name,
        constraints=[_constraint(c) for c in constraints],
        optional=optional or default is not None,
        default=default,
        catch_all=catch_all,
    )


def _segment_parts(segment: str) -> list[str | Parameter]:
    """Literal text and parameters of one segment; `{{` and `}}` are literal braces."""
    parts: list[str | Parameter] = []
    literal, i = "", 0
    while i < len(segment):
        pair = segment[i : i + 2]
        if pair in ("{{", "}}"):
            literal, i = literal + pair[0], i + 2
        elif segment[i] == "{":
            end, depth, j = -1, 0, i + 1
            while j < len(segment):
                if segment[j : j + 2] in ("{{", "}}"):
                    j += 2
                    continue
                if segment[j] == "(":
                    depth += 1
                elif segment[j] == ")":
                    depth -= 1
                elif segment[j] == "}" and depth <= 0:
                    end = j
                    break
                j += 1
            if end < 0:
                raise RouteTemplateError(f"unclosed '{{' in route segment {segment!r}")
            if literal:
                parts.append(literal)
                literal = ""
            body = segment[i + 1 : end].replace("{{", "{").replace("}}", "}")
            parts.append(_parameter(body))
            i = end + 1
        elif segment[i] == "}":
            raise RouteTemplateError(f"unmatched '}}' in route segment {segment!r}")
        else:
            literal, i = literal + segment[i], i + 1
    if literal:
        parts.append(literal)
    return parts


@dataclass
class _Segment:
    parts: list[str | Parameter]
    pattern: re.Pattern[str] | None = None
    """For a segment mixing literals and parameters; greedy groups give the leftmost
    parameter the longest value, as ASP.NET's right-to-left matching does."""

    @property
    def literal(self) -> str | None:
        return self.parts[0] if len(self.parts) == 1 and isinstance(self.parts[0], str) else None

    @property
    def parameter(self) -> Parameter | None:
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Parameter) else None

    @property
    def precedence(self) -> int:
        if self.literal is not None:
            return 1
        param = self.parameter
        if param is None:
            return 2
        if param.catch_all:
            return 5
        return 3 if param.constraints else 4


class RouteTemplate:
    """A parsed route template that matches decoded URL paths."""

    def __init__(self, template: str) -> None:
        self.template = template
        text = template.strip()
        text = text.removeprefix("~").strip("/")
        self.segments = [self._segment(s) for s in text.split("/")] if text else []
        names = [p.name.lower() for s in self.segments for p in s.parts if isinstance(p, Parameter)]
        if len(names) != len(set(names)):
            raise RouteTemplateError(f"route {template!r} repeats a parameter name")
        for i, seg in enumerate(self.segments):
            param = seg.parameter
            if param and param.catch_all and i != len(self.segments) - 1:
                raise RouteTemplateError(f"route {template!r}: a catch-all must be last")
            if param and param.optional:
                rest = self.segments[i + 1 :]
                if any(
                    not (s.parameter and (s.parameter.optional or s.parameter.catch_all))
                    for s in rest
                ):
                    raise RouteTemplateError(
                        f"route {template!r}: only trailing parameters may be optional"
                    )
        self.precedence = tuple(s.precedence for s in self.segments)

    @staticmethod
    def _segment(text: str) -> _Segment:
        if not text:
            raise RouteTemplateError("empty route segment")
        parts = _segment_parts(text)
        segment = _Segment(parts)
        if segment.literal is None and segment.parameter is None:
            params = [p for p in parts if isinstance(p, Parameter)]
            if any(p.catch_all for p in params):
                raise RouteTemplateError(f"a catch-all must be a whole segment: {text!r}")
            for a, b in itertools.pairwise(parts):
                if isinstance(a, Parameter) and isinstance(b, Parameter):
                    raise RouteTemplateError(f"two parameters need a literal between: {text!r}")
            regex = "".join(
                re.escape(p) if isinstance(p, str) else f"(?P<p{i}>.+)" for i, p in enumerate(parts)
            )
            segment.pattern = re.compile(regex, re.IGNORECASE)
        return segment

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameter values for an URL path (still percent-encoded), or None."""
        raw = path.strip("/")
        pieces = [unquote(p) for p in raw.split("/")] if raw else []
        values: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            param = seg.parameter
            if param and param.catch_all:
                rest = "/".join(pieces[i:])
                if rest and not param.accepts(rest):
                    return None
                if rest or param.default is not None:
                    values[param.name] = rest or str(param.default)
                return values
            if i >= len(pieces):
                if param and param.optional:
                    if param.default is not None:
                        values[param.name] = param.default
                    continue
                return None
            piece = pieces[i]
            if seg.literal is not None:
                if piece.casefold() != seg.literal.casefold():
                    return None
            elif param is not None:
                if not piece or not param.accepts(piece):
                    return None
                values[param.name] = piece
            elif not self._match_complex(seg, piece, values):
                return None
        return values if len(pieces) <= len(self.segments) else None

    @staticmethod
    def _match_complex(seg: _Segment, piece: str, values: dict[str, str]) -> bool:
        assert seg.pattern is not None
        found = seg.pattern.fullmatch(piece)
        if not found:
            return False
        for i, part in enumerate(seg.parts):
            if isinstance(part, Parameter):
                value = found[f"p{i}"]
                if not part.accepts(value):
                    return False
                values[part.name] = value
        return True


@dataclass(frozen=True)
class Matched(Generic[T]):
    target: T
    route_params: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: frozenset[str]


@dataclass
class Router(Generic[T]):
    """Routes (template, methods) to targets; methods None means any method."""

    _routes: list[tuple[RouteTemplate, frozenset[str] | None, T]] = field(default_factory=list)

    def add(self, template: str, methods: Iterable[str] | None, target: T) -> None:
        allowed = frozenset(m.upper() for m in methods) if methods is not None else None
        self._routes.append((RouteTemplate(template), allowed, target))
        # Stable sort: equally specific routes keep registration order.
        self._routes.sort(key=lambda route: route[0].precedence)

    def resolve(self, method: str, path: str) -> Matched[T] | MethodNotAllowed | None:
        allowed: set[str] = set()
        for template, methods, target in self._routes:
            params = template.match(path)
            if params is None:
                continue
            if methods is None or method.upper() in methods:
                return Matched(target, params)
            allowed |= methods
        return MethodNotAllowed(frozenset(allowed)) if allowed else None
