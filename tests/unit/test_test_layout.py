"""The test suite's own rules: helpers live in `tests/factories/` or a `support.py`,
so no test module (or conftest) is imported by another."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _is_test_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return dotted.startswith("tests.") and (last.startswith("test_") or last == "conftest")


def test_no_test_module_imports_another_test_module() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            offenders += [
                f"{path.relative_to(TESTS.parent)}:{node.lineno} imports {name}"
                for name in imported
                if _is_test_module(name)
            ]
    assert offenders == []


def test_the_rule_catches_what_it_should() -> None:
    assert _is_test_module("tests.integration.test_monitor_store")
    assert _is_test_module("tests.conftest")
    assert not _is_test_module("tests.factories.users")
    assert not _is_test_module("tests.unit.platforms.support")
