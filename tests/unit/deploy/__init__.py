"""Deployment code: infra/ templates and scripts, azure.yaml, the GitHub workflows."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]


def load_script(name: str) -> ModuleType:
    """Import `infra/scripts/<name>.py` (scripts, not a package) as a module."""
    path = ROOT / "infra" / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"infra_scripts_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
