"""The layout holds: layers point one way, no import loops, one media sniffer, one
reader of the environment, verdicts decided in one module and worded in another."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("realmark", "signer", "verifier", "cli", "service", "bench")
# What each top-level package may import, besides itself and the standard/third-party world.
ALLOWED = {
    "realmark": set(),  # the shared core
    "signer": {"realmark"},
    "verifier": {"realmark"},
    "service": {"realmark", "signer", "verifier"},
    "cli": {"realmark", "signer", "verifier", "service"},
    "bench": {"realmark", "signer", "verifier", "cli", "service"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Modules of this tree that `name` imports anywhere (TYPE_CHECKING blocks and
    function bodies included): `from x import y` imports x.y when that is a module, else x."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            submodules = {f"{source}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules if len(submodules) == len(node.names) else submodules | {source})
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_layers_point_one_way():
    upward = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if (top := target.split(".")[0]) != name.split(".")[0] and top not in ALLOWED[name.split(".")[0]]
    ]
    assert not upward, upward


def test_benchmarks_do_not_need_the_tests():
    for name, path in MODULES.items():
        if name.startswith("bench"):
            assert not re.search(r"^\s*(from|import) tests\b", path.read_text(), re.M), name


def test_no_import_loops():
    """Depth-first search for a cycle; package __init__ files count as modules."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    loops = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                loops.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not loops, loops


def _source(path: Path) -> str:
    return path.read_text()


def test_one_media_sniffer():
    """Magic bytes are read in realmark/media/formats.py and nowhere else."""
    signatures = (r"\\xff\\xd8\\xff", r"\\x89PNG", r'b"ftyp"', r'b"WEBP"', r"\\x1a\\x45\\xdf\\xa3")
    for name, path in MODULES.items():
        if name != "realmark.media.formats" and not name.startswith("bench"):
            text = _source(path)
            assert not any(s in text for s in signatures), f"{name} sniffs content itself"


def test_settings_alone_reads_the_environment():
    for name, path in MODULES.items():
        if name.split(".")[0] in ("bench",) or name == "realmark.settings":
            continue
        text = _source(path)
        assert not re.search(r"os\.environ|os\.getenv|getenv\(", text), f"{name} reads the environment"


def test_verdicts_are_decided_in_one_module():
    """Only verifier/decide.py picks a verdict (result.py defines them)."""
    for name, path in MODULES.items():
        if name in ("verifier.decide", "verifier.result") or not name.startswith(("verifier", "service", "cli")):
            continue
        tree = ast.parse(_source(path))
        picked = [
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "Verdict"
            if n.attr.isupper()
        ]
        # Routers may read a verdict to act on it; the verifier's pipelines never name one.
        if name.startswith("verifier"):
            assert not picked, f"{name} decides a verdict ({picked})"


def test_verdict_sentences_come_from_one_module():
    from verifier import wording

    prefixes = set()
    for table in wording.TEMPLATES.values():
        for key, template in table.items():
            head = template.split("{")[0].strip()
            if len(head) >= 12 and key not in ("what", "caution") and not key.startswith(("part.", "matched.")):
                prefixes.add(head)
    for name, path in MODULES.items():
        if name == "verifier.wording":
            continue
        text = _source(path)
        for head in prefixes:
            assert head not in text, f"{name} writes a verdict sentence itself: {head!r}"


def test_every_language_has_every_sentence():
    from verifier import wording

    keys = {lang: set(table) for lang, table in wording.TEMPLATES.items()}
    english = keys[wording.DEFAULT_LANGUAGE]
    for lang, have in keys.items():
        assert have == english, f"{lang}: missing {english - have}, extra {have - english}"
