"""Route templates match as the Functions host's ASP.NET routing does."""

import pytest

from localdev.host.routing import (
    Matched,
    MethodNotAllowed,
    Router,
    RouteTemplate,
    RouteTemplateError,
)

GUID = "0b7e1a52-5a43-4c1b-9b4a-3f0c9b1f4f4e"


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("health", "/health", {}),
        ("health", "/HEALTH/", {}),
        ("health", "/health/x", None),
        ("users/{name}", "/users/ada", {"name": "ada"}),
        ("users/{name}", "/users/a%20b", {"name": "a b"}),
        ("users/{name}", "/users", None),
        ("items/{id:guid}", f"/items/{GUID}", {"id": GUID}),
        ("items/{id:guid}", "/items/42", None),
        ("n/{n:int}", "/n/-7", {"n": "-7"}),
        ("n/{n:int}", "/n/7.5", None),
        ("n/{n:int}", "/n/99999999999", None),
        ("n/{n:long}", "/n/99999999999", {"n": "99999999999"}),
        ("n/{n:int:min(1)}", "/n/0", None),
        ("n/{n:range(1,5)}", "/n/5", {"n": "5"}),
        ("n/{n:range(1,5)}", "/n/6", None),
        ("w/{w:alpha:maxlength(3)}", "/w/abc", {"w": "abc"}),
        ("w/{w:alpha:maxlength(3)}", "/w/abcd", None),
        ("w/{w:length(2,3)}", "/w/a", None),
        ("b/{flag:bool}", "/b/True", {"flag": "True"}),
        ("d/{x:double}", "/d/1.5e3", {"x": "1.5e3"}),
        ("t/{at:datetime}", "/t/2024-01-02T03:04:05", {"at": "2024-01-02T03:04:05"}),
        ("c/{code:regex(^[a-z]{{2}}$)}", "/c/ab", {"code": "ab"}),
        ("c/{code:regex(^[a-z]{{2}}$)}", "/c/abc", None),
        ("opt/{x?}", "/opt", {}),
        ("opt/{x?}", "/opt/1", {"x": "1"}),
        ("opt/{a}/{b?}/{c?}", "/opt/1/2", {"a": "1", "b": "2"}),
        ("page/{p:int=1}", "/page", {"p": "1"}),
        ("page/{p:int=1}", "/page/3", {"p": "3"}),
        ("files/{*rest}", "/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        ("files/{*rest}", "/files", {}),
        ("f/{name}.{ext}", "/f/report.v2.pdf", {"name": "report.v2", "ext": "pdf"}),
        ("f/{name}.{ext}", "/f/report", None),
        ("", "/", {}),
    ],
)
def test_template_matching(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert RouteTemplate(template).match(path) == expected


@pytest.mark.parametrize(
    "template",
    [
        "a/{x:nosuch}",
        "a/{*rest}/b",
        "a/{x?}/b",
        "a/{x}{y}",
        "a/{x}/{X}",
        "a/{x",
        "a/x}",
        "a//b",
    ],
)
def test_invalid_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteTemplateError):
        RouteTemplate(template)


def test_the_most_specific_route_wins_whatever_the_registration_order() -> None:
    router: Router[str] = Router()
    router.add("api/{*rest}", None, "catch-all")
    router.add("api/items/{id}", ["GET"], "by-id")
    router.add("api/items/{id:int}", ["GET"], "by-int")
    router.add("api/items/new", ["GET"], "new")
    assert router.resolve("GET", "/api/items/new") == Matched("new", {})
    assert router.resolve("GET", "/api/items/7") == Matched("by-int", {"id": "7"})
    assert router.resolve("GET", "/api/items/x") == Matched("by-id", {"id": "x"})
    assert router.resolve("GET", "/api/other/thing") == Matched(
        "catch-all", {"rest": "other/thing"}
    )


def test_method_mismatch_is_405_with_the_allowed_methods_and_no_match_is_none() -> None:
    router: Router[str] = Router()
    router.add("api/items/{id}", ["GET"], "get")
    router.add("api/items/{id}", ["delete"], "delete")
    assert router.resolve("DELETE", "/api/items/1") == Matched("delete", {"id": "1"})
    assert router.resolve("PUT", "/api/items/1") == MethodNotAllowed(frozenset({"GET", "DELETE"}))
    assert router.resolve("GET", "/api/nothing") is None
