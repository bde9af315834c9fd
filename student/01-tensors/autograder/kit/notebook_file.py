"""The notebook a submission file holds: an ``.ipynb``, or the one ``.ipynb`` in an otter export
``.zip``, read and parsed as JSON with a clear message for whatever it is instead. The
grader's intake and the students' ``validate`` read files the same way, so both say the same
about a file that is not a notebook.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.kit.regular_files import read_regular_file

# A notebook must fit one message on the wire; an honest one with many outputs is far below.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000  # an export holds a notebook and a log; a central directory costs memory


def cell_label(index: int, source: str = "") -> str:
    """How a message names the cell at ``index`` (from 0) of a notebook's cells: by the number
    a person sees, counted from 1 over all cells (markdown and raw too) in the notebook's
    order, as JupyterLab shows them, and by its first line when ``source`` is given."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return f"cell {index + 1} ({first[:60]!r})" if first else f"cell {index + 1}"


def code_cell_label(positions: Sequence[int], index: int, source: str = "") -> str:
    """``cell_label`` for the code cell at ``index`` among a notebook's code cells, where
    ``positions`` holds each code cell's place among all its cells (counted as code cells
    where it does not)."""
    return cell_label(positions[index] if index < len(positions) else index, source)


def is_code_cell(cell: object) -> bool:
    return isinstance(cell, dict) and cell.get("cell_type") == "code"


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as text (a file stores it as a string or a list of lines), or
    ``ValueError`` when it is neither."""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    if not isinstance(source, str):
        raise ValueError("a cell's source is neither text nor a list of lines")
    return source


def read_notebook_file(path: Path) -> dict[str, Any]:
    """The notebook JSON in ``path``, a format-4 notebook with a list of cells, or
    ``ValueError`` saying what the file is instead (``OSError`` where it cannot be read)."""
    raw = notebook_bytes(path)
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("the file is not text (not a notebook)") from None
    except RecursionError:
        raise ValueError("the file's JSON nests too deeply to be a notebook") from None
    except json.JSONDecodeError as error:
        hint = " (truncated?)" if error.pos >= len(raw.rstrip()) - 1 else ""
        raise ValueError(f"not valid notebook JSON at line {error.lineno}: {error.msg}"
                         f"{hint}") from None
    if not isinstance(nb, dict):
        raise ValueError("the file is JSON but not a Jupyter notebook")
    if isinstance(nb.get("nbformat"), int) and nb["nbformat"] != 4:
        raise ValueError(f"notebook format {nb['nbformat']} is not supported (expected 4: "
                         "open and save it in a current Jupyter)")
    if not isinstance(nb.get("cells"), list):
        raise ValueError("the file is JSON but not a Jupyter notebook (no cells)")
    return nb


def notebook_bytes(path: Path) -> bytes:
    """The bytes of the notebook inside a submission file. The file is read once, as a
    regular file (no link, no FIFO), within the size cap."""
    raw = read_regular_file(path, MAX_NOTEBOOK_BYTES)
    if not raw:
        raise ValueError("the file is empty")
    if zipfile.is_zipfile(io.BytesIO(raw)):
        _check_zip_entries(raw)
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            notebooks = [i for i in zf.infolist() if i.filename.endswith(".ipynb") and
                         not i.filename.startswith("__MACOSX") and not i.is_dir()]
            if len(notebooks) != 1:
                raise ValueError(f"the zip holds {len(notebooks)} notebooks; expected exactly one")
            if notebooks[0].file_size > MAX_NOTEBOOK_BYTES:
                raise ValueError("the notebook in the zip is larger than 64 MB")
            with zf.open(notebooks[0]) as member:  # a lying size field stops at the cap too
                data = member.read(MAX_NOTEBOOK_BYTES + 1)
            if len(data) > MAX_NOTEBOOK_BYTES:
                raise ValueError("the notebook in the zip is larger than 64 MB")
            return data
    if Path(path).suffix.lower() == ".zip":
        raise ValueError("the file is named .zip but is not a readable zip archive")
    return raw


def _check_zip_entries(raw: bytes) -> None:
    """Refuse a zip whose central directory lists more entries than an export could hold,
    before ``zipfile`` builds an object for each of them."""
    end = raw.rfind(b"PK\x05\x06")
    if end >= 0 and len(raw) >= end + 12:
        entries = int.from_bytes(raw[end + 10:end + 12], "little")
        if entries > MAX_ZIP_ENTRIES:
            raise ValueError(f"the zip lists {entries} entries; an export holds a few")
