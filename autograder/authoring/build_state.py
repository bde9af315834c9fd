"""The build state of one release (``dist/NN-name/build.json``): which inputs the verified
outputs were built from, the digest of every output, and the last attempt that failed.

A release is up to date only when its outputs are, byte for byte, the verified ones built from
exactly the current inputs: a stamp alone cannot tell a verified bundle from one a failed or
interrupted build left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

FILE_NAME = "build.json"


@dataclass(frozen=True)
class Failure:
    fingerprint: str  # the inputs that failed
    error: str  # what the release said


@dataclass(frozen=True)
class BuildState:
    fingerprint: str = ""  # inputs of the verified outputs ("" when none was ever verified)
    # output path (relative to the state's folder) -> sha256
    outputs: dict[str, str] = field(default_factory=dict)
    failure: Failure | None = None

    def is_current(self, fingerprint: str, dist_dir: Path) -> bool:
        """Verified outputs, built from ``fingerprint``, unchanged on disk."""
        return bool(self.outputs) and self.fingerprint == fingerprint and \
            all(_sha256(Path(dist_dir) / path) == digest
                for path, digest in self.outputs.items())

    def failed(self, fingerprint: str, error: str) -> BuildState:
        return replace(self, failure=Failure(fingerprint, error))

    def to_json(self) -> dict:
        record: dict = {"fingerprint": self.fingerprint, "outputs": self.outputs}
        if self.failure is not None:
            record["failed"] = {"fingerprint": self.failure.fingerprint,
                                "error": self.failure.error}
        return record


def verified(fingerprint: str, outputs: dict[Path, Path]) -> BuildState:
    """The state of outputs just verified: where each will be read back -> the file now."""
    return BuildState(fingerprint, {str(path): _sha256(now)
                                    for path, now in sorted(outputs.items())})


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def read(dist_dir: Path) -> BuildState:
    """The recorded state; an empty one when there is none or it cannot be read."""
    try:
        record = json.loads((Path(dist_dir) / FILE_NAME).read_text(encoding="utf-8"))
        failed = record.get("failed")
        return BuildState(
            fingerprint=str(record.get("fingerprint", "")),
            outputs={str(k): str(v) for k, v in dict(record.get("outputs", {})).items()},
            failure=Failure(str(failed["fingerprint"]), str(failed["error"])) if failed
            else None)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return BuildState()


def write(dist_dir: Path, state: BuildState) -> None:
    path = Path(dist_dir) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILE_NAME}.tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)
