"""The import contract: data flows one way, parsing -> mapping -> validation -> store -> query
-> web, and each stage imports only what the table below allows (STYLE.md's module table; the
README's layout map). Every import counts, also those inside functions or TYPE_CHECKING blocks.

``make lint`` runs this file, so an import across the table fails CI before any other test.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "innograph"
LEAVES = {"errors", "settings", "prefixes", "__init__"}  # anyone may import these (and __version__)
# stage -> the stages it may import (besides itself and the leaves)
STAGES: dict[str, set[str]] = {
    "errors": set(),
    "settings": set(),
    "prefixes": set(),
    "records": set(),
    "parsing": {"records"},
    "vocab": set(),
    "mapping": {"records", "vocab"},
    "validation": {"vocab"},
    "store": {"vocab"},
    "query": {"store"},
    "pipeline": {"records", "parsing", "vocab", "mapping", "validation", "store"},
    "web": {"query", "vocab"},
    "synth": {"records", "vocab"},  # writes profile texts for scale tests, from the schemes
    "cli": {"pipeline", "store", "query", "web", "validation", "records", "synth"},
    "__init__": {"store"},  # open_graph(), for notebooks
    "__main__": {"cli"},
}
# Inside a package: module -> the siblings it may import. The package's __init__ may import
# any of its own modules; a module not listed imports no sibling.
SIBLINGS: dict[str, set[str]] = {
    "parsing.headed": {"frames", "ledger"},
    "parsing.flat": {"frames", "ledger"},
    "parsing.damage": {"frames", "headed", "ledger"},
    "validation.gate": {"shapes"},
    "validation.reference": {"shapes"},
    "validation.report": {"reference"},
    "validation.causes": {"gate"},
    "query.workers": {"costs", "guard", "writers"},
    "query.local": {"guard", "writers"},
    "query.remote": {"guard", "workers", "writers"},
    "store.cache": {"files", "graphs"},
    "store.versions": {"files"},
    "store.servers": set(),
    "store.slots": {"files", "servers", "versions", "virtuoso"},
    "store.virtuoso": {"servers"},
    "store.dumps": {"files", "graphs"},
    "store.statistics": {"files"},
    "store.documents": {"files"},
    "store.findings": {"files"},
    "store.retired": {"files"},
    "web.sparql": {"http", "negotiation", "repeats", "runtime", "service", "throttle"},
    "web.service": {"negotiation", "runtime"},
    "web.server": {"__init__", "gathered", "lane", "repeats", "sparql", "throttle"},
    "web.lane": {"http", "runtime", "sparql", "throttle"},
    "web.resources": {"negotiation", "ontology", "rendering", "repeats", "runtime", "throttle"},
    "web.prerender": {"rendering"},
    "web.pages": {"rendering", "resources", "runtime"},
    "web.dataset": {"rendering", "resources", "runtime"},
    "web.conformance": {"dataset", "rendering", "resources", "runtime"},
    "web.waves": {"rendering", "resources", "runtime"},
    "web.compare": {"rendering", "resources", "runtime"},
    "web.cite": {"rendering", "resources", "runtime"},
    "web.queries": {"cite", "negotiation", "resources", "runtime"},
    "synth.page": {"words"},
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path) -> tuple[str, ...]:
    """innograph/query/workers.py -> (query, workers); innograph/store/__init__.py -> (store,)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def as_module(target: tuple[str, ...]) -> tuple[str, ...]:
    """The module a name lives in: ``from . import __version__`` imports innograph itself."""
    while target:
        folder = PACKAGE.joinpath(*target)
        if folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file():
            return target
        target = target[:-1]
    return target


def imported(path: Path) -> set[tuple[str, ...]]:
    """Every module of ours that the file imports, as a path inside the package."""
    here = dotted(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
            found.update(tuple(n[1:]) for n in names if n[0] == "innograph")
        elif isinstance(node, ast.ImportFrom):
            module = node.module.split(".") if node.module else []
            if node.level == 0:
                if module[:1] != ["innograph"]:
                    continue
                base = tuple(module[1:])
            else:
                base = (*package[: len(package) - node.level + 1], *module)
            found.update(as_module((*base, alias.name)) for alias in node.names)
    return found


def stage(parts: tuple[str, ...]) -> str:
    return parts[0] if parts else "__init__"


def problems(path: Path) -> list[str]:
    """Each import of this file that the contract does not allow, said in words."""
    here = dotted(path)
    own = stage(here)
    allowed = STAGES.get(own)
    if allowed is None:
        return [f"{'.'.join(here)}: stage {own!r} is not in the contract"]
    found = []
    for target in sorted(imported(path)):
        other, name = stage(target), ".".join(target) or "innograph"
        if other == own and own != "__init__":
            if path.name == "__init__.py" and len(here) == 1:
                continue  # a package's __init__ composes its own modules
            sibling = target[1] if len(target) > 1 else "__init__"
            if sibling not in SIBLINGS.get(".".join(here), set()):
                found.append(f"{'.'.join(here)} imports its sibling {name}")
        elif other not in LEAVES and other not in allowed:
            found.append(f"{'.'.join(here) or 'innograph'} ({own}) imports {name} ({other})")
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_contract(path: Path) -> None:
    assert problems(path) == []


def test_the_contract_names_every_stage() -> None:
    stages = {stage(dotted(p)) for p in modules()}
    assert stages <= set(STAGES), stages - set(STAGES)


def test_the_contract_catches_a_crossing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that cannot fail proves nothing: plant each kind of crossing and see it caught,
    in a copy of the package (never in the tree a build or an editor may be reading)."""
    copy = tmp_path / "innograph"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    planted = {
        "mapping/bad.py": "from ..web import create_app\n",
        "web/bad.py": "from .. import store\n",
        "parsing/bad.py": "def f():\n    from innograph.mapping import map_profile\n",
    }
    for name, text in planted.items():
        path = copy / name
        path.write_text(text, encoding="utf-8")
        assert problems(path), name
    sibling = copy / "parsing" / "flat.py"
    assert problems(sibling) == []
    with sibling.open("a", encoding="utf-8") as stream:
        stream.write("\nfrom .headed import HeadedReader\n")
    assert problems(sibling) == ["parsing.flat imports its sibling parsing.headed"]
