"""The judge never writes through a path the student's process could plant: its files sit in a
folder the student's process may read but not write, and what a check has student code write
(``checks.student_folder``) the judge only reads, as a regular file, never through a link.

The attack is a partly wrong 04 notebook (``forgot model.eval()`` in q11) whose ``save_model``
starts a thread that, for as long as the checks run, plants symbolic links to a host path
outside the sandbox under every name the q11 checks use, in every folder it can write in the
judge's folder. With ``fs.protected_symlinks`` off the kernel does not stop a process from
following them; the judge must not, by design. The control is the same notebook without the
thread.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest
from conftest import notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions
from autograder.kit.checks import read_state_dict_file, student_wrote_file

ASSIGNMENT, QUESTION, WRONG = "04-mini-project", "q11", "forgot model.eval()"
PROTECTED_SYMLINKS = Path("/proc/sys/fs/protected_symlinks")

PLANTER = '''
import os as _os, threading as _threading, time as _time

def _plant(start):
    end = _time.monotonic() + 20
    while _time.monotonic() < end:
        for root, _dirs, _files in _os.walk(start):
            for name in ("saved_on_a_gpu.pt", "model.pt", "first.pt", "second.pt"):
                try:
                    _os.symlink(@TARGET@, _os.path.join(root, name))
                except OSError:
                    pass
        _time.sleep(0.002)

_real_save_model = save_model

def save_model(model, path):
    if _os.path.isabs(path) and not any(t.name == "planter" for t in _threading.enumerate()):
        shared = _os.path.dirname(_os.path.dirname(path))
        _threading.Thread(target=_plant, args=(shared,), name="planter", daemon=True).start()
    _real_save_model(model, path)
'''


@pytest.fixture(scope="module")
def wrong_answer():
    return variants_for(ASSIGNMENT)[QUESTION]["wrong"][WRONG]


@pytest.fixture(scope="module")
def control(releases, wrong_answer, tmp_path_factory):
    release = releases[ASSIGNMENT]
    folder = tmp_path_factory.mktemp("files-control")
    notebook_with_answer(release.solution, QUESTION, wrong_answer, folder / "control.ipynb")
    [result] = grade_submissions(release.bundle, [folder], workers=1)
    return result


def _set_protected_symlinks(value: str) -> str | None:
    """The host's setting, changed to ``value`` if it is not that already; the old value to
    restore, or None where nothing was changed. Skips where it cannot be set: the setting is
    the kernel's, not a namespace's, so only root on the host changes it."""
    before = PROTECTED_SYMLINKS.read_text().strip()
    if before == value:
        return None
    try:
        PROTECTED_SYMLINKS.write_text(value)
    except OSError as error:
        pytest.skip(f"fs.protected_symlinks is {before} here and cannot be set to {value} "
                    f"({error.strerror}); the other half of this test covers the setting here")
    return before


@pytest.mark.parametrize("protected", ["0", "1"], ids=["protected_symlinks-off",
                                                       "protected_symlinks-on"])
def test_planted_links_reach_no_file_outside_and_earn_nothing(releases, wrong_answer, control,
                                                              tmp_path, protected):
    release = releases[ASSIGNMENT]
    # A host path any uid may create: /tmp itself (world-writable, sticky).
    target = Path("/tmp") / f"autograder-escaped-{secrets.token_hex(6)}.pt"
    attack = wrong_answer + PLANTER.replace("@TARGET@", repr(str(target)))
    notebook_with_answer(release.solution, QUESTION, attack, tmp_path / "attack.ipynb")
    before = _set_protected_symlinks(protected)
    try:
        [result] = grade_submissions(release.bundle, [tmp_path], workers=1)
    finally:
        if before is not None:
            PROTECTED_SYMLINKS.write_text(before)
        escaped = target.exists() or target.is_symlink()
        if escaped:
            target.unlink()
    assert not escaped, f"the judge wrote {target}, outside the sandbox"
    assert result.status == control.status == "graded", (result.message, control.message)
    scores = {name: {q.name: q.score for q in r.questions}
              for name, r in (("control", control), ("attack", result))}
    [possible] = [q.possible for q in control.questions if q.name == QUESTION]
    assert scores["control"][QUESTION] < possible  # the control is wrong there
    assert scores["attack"][QUESTION] <= scores["control"][QUESTION], scores
    assert result.score <= control.score, (result.score, control.score)


def test_a_link_where_a_file_should_be_is_named_as_a_link_whatever_it_points_to(tmp_path):
    """What a check says about a planted link tells the student nothing of the host: a link to
    an existing file and a link to nothing read the same."""
    real = tmp_path / "exists.pt"
    real.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    messages = []
    for name, points_to in (("to-a-file", real), ("to-nothing", tmp_path / "absent")):
        link = tmp_path / name
        link.symlink_to(points_to)
        assert not student_wrote_file(str(link))
        with pytest.raises(ValueError) as raised:
            read_state_dict_file(str(link))
        messages.append(str(raised.value))
    assert messages[0] == messages[1] and "symbolic link" in messages[0], messages
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not student_wrote_file(str(fifo)) and stat.S_ISFIFO(fifo.lstat().st_mode)
    with pytest.raises(ValueError, match="not a regular file"):
        read_state_dict_file(str(fifo))  # refused at once: the open does not wait for a writer
