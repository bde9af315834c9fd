"""The layout shows the data flow and the trust boundary, and cannot drift: every module belongs
to one stage, and no import runs against the stages' order (read from the code with ``ast``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograder"

# Each module's stage, by the longest matching prefix of its dotted name.
STAGES = {
    "autograder.__init__": "package",
    "autograder.__main__": "commands",
    "autograder.cli": "cli",
    "autograder.ci": "commands",
    "autograder.suite": "commands",
    "autograder.audit": "audit",
    "autograder.authoring": "authoring",
    "autograder.grading": "grading",
    "autograder.grading.untrusted": "untrusted",
    "autograder.grading.wire": "wire",
    "autograder.grading.framing": "wire",
    "autograder.reports": "reports",
    "autograder.bundle": "records",
    "autograder.results": "records",
    "autograder.errors": "records",
    "autograder.text": "records",
    "autograder.kit": "kit",
    "autograder.similarity": "similarity",
}

# What each stage may import (besides itself). Higher stages use lower ones, never the reverse:
# the kit is copied into student releases and imports nothing of the grader; the student's side
# (untrusted) sees only the wire format and the kit; the wire format stands alone, so what the
# two sides share is exactly that one module; reports read the records, never grading's
# internals; only ``__main__`` imports the CLI; the similarity report reads submissions through
# grading's intake and writes through reports, never touching the judge.
MAY_IMPORT = {
    "package": set(),
    "kit": set(),
    "records": set(),
    "wire": set(),
    "untrusted": {"wire", "kit"},
    "reports": {"records"},
    "grading": {"untrusted", "wire", "kit", "records", "reports"},
    "authoring": {"grading", "wire", "kit", "records", "reports"},
    "audit": {"authoring", "grading", "wire", "kit", "records", "reports", "commands"},
    "similarity": {"grading", "kit", "records", "reports"},
    "commands": {"audit", "authoring", "grading", "wire", "kit", "records", "reports", "cli",
                 "similarity"},
    "cli": {"commands", "audit", "authoring", "grading", "wire", "kit", "records", "reports",
            "similarity"},
}
# Within grading, only the worker that forks the student's process may import its code.
UNTRUSTED_LOADED_BY = {"autograder.grading.sandbox"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 2 else ".".join(parts)


def stage_of(module: str) -> str | None:
    best = max((prefix for prefix in STAGES
                if module == prefix or module.startswith(prefix + ".")), key=len, default=None)
    return STAGES[best] if best else None


def _is_module(dotted: str) -> bool:
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imports_of(path: Path, source: str) -> list[tuple[int, str]]:
    """(line, module) for every import of the suite's own modules, at any depth of the file
    (imports inside functions count: they are edges too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("autograder")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "autograder":
            for alias in node.names:  # ``from autograder.grading import wire`` imports wire
                sub = f"{node.module}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import; name the stage")
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def forbidden_edges(modules: dict[Path, str]) -> list[str]:
    """``modules``: path -> source text."""
    problems = []
    for path, text in modules.items():
        source = module_name(path)
        here = stage_of(source)
        for line, target in imports_of(path, text):
            there = stage_of(target)
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {source} ({here}) imports " \
                    f"{target} ({there})"
            if here != there and there not in MAY_IMPORT[here]:
                problems.append(where)
            elif there == "untrusted" and here != "untrusted" and source not in UNTRUSTED_LOADED_BY:
                problems.append(where + ": only the sandbox starts the student's side")
            elif there == "cli" and source != "autograder.__main__":
                problems.append(where + ": nothing below the command line imports it")
    return problems


def test_every_module_has_a_stage():
    assert [m for m in map(module_name, MODULES) if stage_of(m) is None] == []


def test_no_import_runs_against_the_stages():
    assert forbidden_edges({m: m.read_text(encoding="utf-8") for m in MODULES}) == []


@pytest.mark.parametrize("planted, stage", [
    ("autograder/kit/planted.py", "kit"),
    ("autograder/grading/untrusted/planted.py", "untrusted"),
    ("autograder/reports/planted.py", "reports"),
])
def test_a_forbidden_edge_is_found(planted, stage):
    """The check can fail: a module that reaches into the judge from each guarded stage."""
    problems = forbidden_edges({PACKAGE.parent / planted:
                                "def f():\n    from autograder.grading.judge import Session\n"})
    assert len(problems) == 1 and f"({stage}) imports autograder.grading.judge" in problems[0]
