"""Reading platform answers at the boundary: into pydantic models, or the declared error.

`parse_json` reads a whole body as one model: anything else (bad JSON, wrong
shape or types) is `InvalidResponse`, never a KeyError or ValidationError.
`parse_batch` reads a batch answer whose items are read one by one when
needed, so one malformed item costs only the channel it is about: the rest
of the batch is observed. A sound answer is validated once, straight from its
JSON (the monitor's hot path); only a malformed one is read again, item by item.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast

import httpx
from pydantic import BaseModel, ValidationError, create_model

from shared.platforms.errors import InvalidResponse
from shared.platforms.registry import Platform

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=BaseModel)
REQUEST_ID_HEADERS = ("x-request-id", "request-id")
"""No platform documents a request id header; these are read when present."""


def request_id_of(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if value := response.headers.get(name):
            return str(value)[:200]
    return None


def describe(exc: ValidationError) -> str:
    """The first problem of a validation error, without echoing the payload."""
    errors = exc.errors(include_input=False, include_url=False)
    if not errors:
        return "invalid"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def invalid(message: str, response: httpx.Response, platform: Platform) -> InvalidResponse:
    """An InvalidResponse about `response`, with its status and request id."""
    return InvalidResponse(
        message,
        platform=platform,
        status=response.status_code,
        request_id=request_id_of(response),
    )


def parse_json(model: type[M], response: httpx.Response, platform: Platform) -> M:
    """The body as `model`; anything else (bad JSON, wrong shape or types) is InvalidResponse."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise invalid(
            f"unexpected {model.__name__} payload: {describe(exc)}", response, platform
        ) from None


@dataclass(slots=True)
class Items(Generic[M]):
    """The items of a batch answer: those that parsed, and who the others were about."""

    valid: list[M] = field(default_factory=list)
    failed: dict[str, InvalidResponse] = field(default_factory=dict)
    """By the id the malformed item names (a channel or video id)."""
    unattributed: InvalidResponse | None = None
    """Set when an item was too broken to say whom it was about."""
    malformed: int = 0
    """How many items did not parse."""


def parse_items(
    model: type[M],
    raw: Iterable[Any],
    key: Callable[[Any], str | None],
    response: httpx.Response,
    platform: Platform,
) -> Items[M]:
    """Each raw item as `model`; a malformed one is recorded under `key(item)`.

    `key` reads the id an item is about from the raw item, or None when it
    cannot (then `unattributed` is set and the caller decides who is uncertain).
    """
    items: Items[M] = Items()
    for position, item in enumerate(raw):
        try:
            items.valid.append(model.model_validate(item))
        except ValidationError as exc:
            items.malformed += 1
            error = invalid(
                f"malformed {model.__name__} item {position}: {describe(exc)}", response, platform
            )
            about = key(item)
            if about is None:
                items.unattributed = items.unattributed or error
            else:
                items.failed.setdefault(about, error)
    return items


def string_field(name: str) -> Callable[[Any], str | None]:
    """A `key` for `parse_items`: the item's `name` when it is a non-empty string."""

    def read(item: Any) -> str | None:
        value = item.get(name) if isinstance(item, dict) else None
        return value if isinstance(value, str) and value else None

    return read


@lru_cache(maxsize=64)
def _with_raw_items(model: type[BaseModel], name: str) -> type[BaseModel]:
    """`model` with its field `name` holding the items unread (a subclass of it)."""
    info = model.model_fields[name]
    default: Any = ... if info.is_required() else info.get_default(call_default_factory=True)
    fields: dict[str, Any] = {name: (list[Any], default)}
    lenient: type[BaseModel] = create_model(model.__name__, __base__=model, **fields)
    return lenient


def parse_batch(
    model: type[P],
    name: str,
    item: type[M],
    key: Callable[[Any], str | None],
    response: httpx.Response,
    platform: Platform,
) -> tuple[P, Items[M]]:
    """The answer as `model`, and the items of its list field `name` (of `item`).

    A malformed item does not fail the answer: it is recorded in the `Items`
    (under `key(item)`) and left out of the returned model's list. Anything
    wrong outside the items is InvalidResponse, as with `parse_json`.
    """
    try:
        page = model.model_validate_json(response.content)
    except ValidationError:
        pass
    else:
        return page, Items(valid=list(getattr(page, name)))
    raw = parse_json(_with_raw_items(model, name), response, platform)
    items = parse_items(item, getattr(raw, name), key, response, platform)
    return cast(P, raw.model_copy(update={name: items.valid})), items
