"""Renderers for the terminal: a progress line per graded submission, the gradebook table."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from typing import TextIO

from autograder.results import SubmissionResult


class Progress:
    """A live bar on a terminal, plain lines elsewhere (CI logs)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.bar = None
        if total and getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="submission", file=stream)

    def __call__(self, result: SubmissionResult, done: int, total: int,
                 reused: bool = False) -> None:
        when = "kept from an earlier run into this folder" if reused \
            else f"{result.duration:.1f} s"
        line = (f"[{done}/{total}] {result.submission}: {result.status} "
                f"{result.score:g}/{result.possible:g} ({when})")
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.submission}: {result.status}")
            self.bar.update(1)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def print_gradebook(results: Sequence[SubmissionResult], stream: TextIO = sys.stdout) -> None:
    if not results:
        return
    questions = [q.name for q in results[0].questions]
    width = max(12, *(len(r.submission) for r in results))
    header = f"{'submission':<{width}}  {'status':<9} {'score':>7} {'%':>6}  " + \
        " ".join(f"{q:>5}" for q in questions)
    print(header, file=stream)
    columns = shutil.get_terminal_size().columns
    for r in results:
        by_name = {q.name: q.score for q in r.questions}
        print(f"{r.submission:<{width}}  {r.status:<9} {r.score:>7g} {r.percent:>6.1f}  " +
              " ".join(f"{by_name.get(q, 0):>5g}" for q in questions), file=stream)
        if r.status != "graded":  # why, under its row, cut to the terminal's width
            print(_cut(f"{'':<{width}}  ^ {' '.join(r.message.split())}", columns), file=stream)


def _cut(text: str, columns: int) -> str:
    return text if len(text) <= columns else text[:max(columns - 3, 20)] + "..."
