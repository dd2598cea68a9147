"""The import arrows of ARCHITECTURE.md, enforced.

Every ``fengkong.X`` import inside a package must point at a package that package may import. Core modules
(``money``, ``errors``, ``bounds``, ``clock``) and ``domain`` are open to all; ``domain`` and the core import
only core; no product package imports ``sim``. Add a row here whenever a package is added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "fengkong"
CORE = {"money", "errors", "bounds", "clock", "__init__", "__version__"}
OPEN_TO_ALL = CORE | {"domain"}

# package -> packages it may import besides domain/ and the core modules (ARCHITECTURE.md, "Packages")
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "sim": set(),
    "ingest": {"store"},
    "features": set(),
    "scoring": {"features"},
    "fraud": {"features", "scoring"},
    "compliance": set(),
    "lending": {"ledger", "compliance"},
    "ledger": set(),
    "credit_lines": {"compliance"},
    "decisions": {"features", "scoring", "fraud", "credit_lines", "lending", "compliance"},
    "chain": set(),
    "reporting": {"lending", "ledger", "compliance"},
    "monitoring": {"scoring"},
    "store": set(),
    "services": {
        "sim",
        "ingest",
        "features",
        "scoring",
        "fraud",
        "compliance",
        "lending",
        "ledger",
        "credit_lines",
        "decisions",
        "chain",
        "reporting",
        "monitoring",
        "store",
    },
    "api": {"services"},
    "cli": {"services"},
}
PRODUCT_PACKAGES = set(ALLOWED) - {"sim", "services", "api", "cli"}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fengkong" and len(parts) > 1:
                found.add(parts[1])
    return found


def _packages() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def test_every_package_has_a_row() -> None:
    missing = set(_packages()) - set(ALLOWED)
    assert not missing, f"packages without a row in ALLOWED (and in ARCHITECTURE.md): {sorted(missing)}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_arrows(package: str) -> None:
    allowed = ALLOWED[package] | OPEN_TO_ALL | {package}
    if package == "domain":
        allowed = CORE | {"domain"}
    bad: list[str] = []
    for path in sorted((SRC / package).rglob("*.py")):
        for imported in _imported_packages(path) - allowed:
            bad.append(f"{path.relative_to(SRC)} imports fengkong.{imported}")
    assert not bad, "import arrows broken:\n" + "\n".join(bad)


def test_core_modules_import_only_core() -> None:
    for name in ("money", "errors", "bounds", "clock"):
        imported = _imported_packages(SRC / f"{name}.py")
        assert imported <= CORE, f"{name}.py imports {sorted(imported - CORE)}"


def test_no_product_package_imports_sim() -> None:
    offenders = []
    for package in sorted(PRODUCT_PACKAGES):
        for path in (SRC / package).rglob("*.py"):
            if "sim" in _imported_packages(path):
                offenders.append(str(path.relative_to(SRC)))
    assert not offenders, f"product code must never import sim/: {offenders}"


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from fengkong.sim.world import World\nimport fengkong.store.tables\n")
    assert _imported_packages(sample) == {"sim", "store"}
