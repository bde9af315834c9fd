"""A question's public checks, run in the student's kernel without importing otter.

The public tests packed into a student notebook are otter's exception-based test files with
one line changed at release time: ``test_case`` comes from here, not from
``otter.test_files`` (``setup_cell``). Importing otter costs a cold kernel seconds (about
2.5 s of CPU: its exporters, nbformat and jsonschema's format checkers), paid by every student
at the first cell and by every ``validate``; a check needs none of it. The results keep the
shape of otter's (``test_case_results``, each with ``test_case.name``, ``passed`` and
``message``; otter's texts when shown), so a notebook reads the same either way.

What a failing case says is what the check raised (an ``AssertionError``'s text alone, any
other exception with its type), never a line of the test's source.
"""

from __future__ import annotations

import html
import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import indent
from typing import Any

PASSED = "✅ Test case passed"
FAILED = "❌ Test case failed"
_EMOJI = ("🍀", "🎉", "🌈", "🙌", "🚀", "🌟", "✨", "💯")  # as otter picks one


class test_case:  # noqa: N801  # the name otter's test files use
    """A test case of an exception-based test file: the decorated function is called with
    the values of its parameters' names in the notebook's globals (``env``: the globals)."""

    def __init__(self, name: str | None = None, points: float | None = None,
                 hidden: bool = False, success_message: str | None = None,
                 failure_message: str | None = None) -> None:
        self.name = name
        self.points = points
        self.hidden = hidden
        self.success_message = success_message
        self.failure_message = failure_message
        self.test_func: Callable[..., None] = lambda: None

    def __call__(self, test_func: Callable[..., None]) -> test_case:
        self.test_func = test_func
        return self

    def call_func(self, global_env: dict[str, Any]) -> None:
        names = inspect.signature(self.test_func).parameters
        self.test_func(*[global_env if name == "env" else global_env.get(name)
                         for name in names])


@dataclass
class CaseResult:
    test_case: test_case
    passed: bool
    message: str


@dataclass
class QuestionResult:
    """One question's public checks, as otter's ``TestFile`` shows them."""

    name: str
    test_case_results: list[CaseResult] = field(default_factory=list)

    @property
    def passed_all(self) -> bool:
        return all(result.passed for result in self.test_case_results)

    def summary(self) -> str:
        if self.passed_all:
            return "\n".join([f"{self.name} results: All test cases passed!"] + [
                f"{r.test_case.name} message: {r.test_case.success_message}"
                for r in self.test_case_results if r.test_case.success_message is not None])
        parts = []
        for r in self.test_case_results:
            part = ""
            message = r.test_case.success_message if r.passed else r.test_case.failure_message
            if message is not None:
                part += f"{r.test_case.name} message: {message}\n\n"
            part += f"{r.test_case.name} result:\n{indent(r.message.strip(), '    ')}"
            parts.append(part)
        return f"{self.name} results:\n" + indent("\n\n".join(parts), "    ")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        def name(text: str | None) -> str:  # every case is named by load_test_file
            return f"<pre style='display: inline;'>{html.escape(str(text))}</pre>"

        if self.passed_all:
            out = f"<p><strong>{name(self.name)}</strong> passed! {random.choice(_EMOJI)}</p>"
            return out + "".join(
                f"<p><strong>{name(r.test_case.name)} message:</strong> "
                f"{html.escape(r.test_case.success_message)}</p>"
                for r in self.test_case_results if r.test_case.success_message is not None)
        out = f"<p><strong style='color: red;'>{name(self.name)} results:</strong></p>"
        for r in self.test_case_results:
            message = r.test_case.success_message if r.passed else r.test_case.failure_message
            if message is not None:
                out += (f"<p><strong>{name(r.test_case.name)} message:</strong> "
                        f"{html.escape(message)}</p>")
            out += (f"<p><strong>{name(r.test_case.name)} result:</strong></p>"
                    f"<pre>{html.escape(indent(r.message, '    '))}</pre>")
        return out


def failure_message(error: BaseException) -> str:
    """What a failing case tells the student: the check's own words for an assertion, the
    exception's type and text for anything else (otter's text, less the test's line)."""
    text = str(error).strip("'")
    return text if isinstance(error, AssertionError) else f"{type(error).__name__}: {text}"


def load_test_file(path: Path) -> tuple[str, list[test_case]]:
    """The question's name and its test cases, in file order, named as otter names them."""
    env: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), env)  # noqa: S102
    if "name" not in env:
        raise ValueError(f"test file {path} does not define 'name'")
    cases = [value for value in env.values() if isinstance(value, test_case)]
    for number, case in enumerate(cases, start=1):
        if case.name is None:
            case.name = f"{env['name']} - {number}"
    return env["name"], cases


def run_checks(path: Path, global_env: dict[str, Any]) -> QuestionResult:
    """Run a test file's cases against the notebook's globals; never raises for a failing
    case."""
    name, cases = load_test_file(path)
    result = QuestionResult(name)
    for case in cases:
        try:
            case.call_func(global_env)
        except Exception as error:
            result.test_case_results.append(
                CaseResult(case, False, f"{FAILED}\n{failure_message(error)}"))
        else:
            result.test_case_results.append(CaseResult(case, True, PASSED))
    return result
