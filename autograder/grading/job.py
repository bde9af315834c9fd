"""What the grader asks a worker to run: one submission's job and its limits.

No torch, like ``framing`` (it imports only the standard library and modules that do): the
grader's own process builds jobs without importing torch; the worker (``sandbox``) runs them.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from autograder.grading import isolation
from autograder.kit.notebook_file import code_cell_label

#: The fresh process's first checkpoint, before its first cell (not a question's).
FRESH_START = "(start)"


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Wall-clock limits are enforced by the grader."""

    submission_seconds: float = 300.0
    cell_seconds: float = 120.0
    memory_mb: int = 2048  # address space on top of what torch itself maps
    max_processes: int = 64  # tasks (processes + threads) of the sandbox uid
    max_output_bytes: int = 200_000  # captured stdout/stderr kept for the instructor
    max_file_mb: int = 256  # largest file the code may write
    disk_mb: int = 512  # its working folder, /tmp and /dev/shm together (one tmpfs: memory)


JOB_MARK = b"job"  # the grader sends it with the channel to the judge; the job follows, framed
JOB_MAX_BYTES = 1 << 30  # the trusted grader's message; the notebook size cap bounds it


@dataclass(frozen=True)
class Job:
    """What the zygote's children need to run a submission. No tests: the grader sends them
    to the judge alone."""

    cells: list[str | None]  # None: otter's own cells (init, check, export), not run
    checkpoints: list[tuple[int, str]]  # (cell index, question): judged before that cell
    box: str  # an empty folder: the zygote mounts the submission's writable space there
    limits: Limits
    slot: int  # machine-wide unique while running: picks the sandbox uid
    seed: int = 0
    # Each cell's place among all the notebook's cells (from 0), for messages; [] when unknown.
    cell_positions: list[int] = field(default_factory=list)
    # An empty folder for a second, fresh student's process (tests that rerun student code
    # apart from the process that ran the notebook: ``checks.from_fresh_process``), or "".
    fresh_box: str = ""

    def fresh_job(self) -> Job | None:
        """The fresh process's job: its own box, a first stop before its first cell, and
        other start seeds. Whatever the notebook computes without seeding (a training moved
        above the previous question's check) then differs from the first process's, so it
        cannot stand in for a seeded rerun; what is seeded, as the question asks, agrees."""
        if not self.fresh_box:
            return None
        return replace(self, box=self.fresh_box, fresh_box="", seed=self.seed + 1,
                       checkpoints=[(0, FRESH_START), *self.checkpoints])

    @property
    def scratch(self) -> str:
        """The student's working folder."""
        return os.path.join(self.box, isolation.WORK)

    @property
    def shared(self) -> str:
        """The judge's working folder (temporary files of tests): the student's process reads
        there, and writes only in the subfolders a check opens to it."""
        return os.path.join(self.box, isolation.SHARED)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def cell_label(self, index: int, source: str = "") -> str:
        """How messages name the code cell at ``index`` of ``cells``."""
        return code_cell_label(self.cell_positions, index, source)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**{**data, "limits": Limits(**data["limits"]),
                      "checkpoints": [(int(i), str(q)) for i, q in data["checkpoints"]]})
