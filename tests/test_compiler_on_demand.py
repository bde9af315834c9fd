"""torch's compiler front end stays unloaded in the student's process until something compiles
(``autograder.kit.compiler_on_demand``, issue 19): training gives torch's own numbers, compiled
code still gets torch's marks, and a torch it was not written for is left alone. Each case runs
in a fresh interpreter: whether ``torch._dynamo`` was ever imported is per process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What a beginner's notebook does with an optimizer and the simulated GPU; prints the trained
# weights and whether the compiler front end was imported.
TRAINING = textwrap.dedent("""
    import copy, json, sys
    import torch
    SETUP
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                      torch.optim.Adam(model.parameters(), lr=1e-2)):
        for _ in range(5):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
        optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    meta = copy.deepcopy(model).to("meta")(torch.ones(2, 4, device="meta"))
    print(json.dumps({"weights": [p.tolist() for p in model.parameters()],
                      "meta": [list(meta.shape), str(meta.device)],
                      "compiler_loaded": "torch._dynamo" in sys.modules}))
""")


def _run(code: str) -> dict:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_training_leaves_the_compiler_unloaded_and_gives_torchs_own_numbers(tmp_path):
    plain = _run(TRAINING.replace("SETUP", ""))
    # The notebook's first cell applies it by creating the grader, as a student's kernel does.
    deferred = _run(TRAINING.replace("SETUP", (
        "from autograder.kit.notebook_grader import NotebookGrader\n"
        f"grader = NotebookGrader('04-mini-project', tests_dir={str(tmp_path)!r})")))
    assert plain["compiler_loaded"]  # what torch does on its own: the cost this avoids
    assert not deferred["compiler_loaded"]
    assert deferred["weights"] == plain["weights"]  # bit for bit
    assert deferred["meta"] == plain["meta"] == [[2, 1], "meta"]


def test_the_grading_worker_prepares_without_the_compiler():
    # The zygote every submission's processes fork from, warmed as for 04 (models built).
    prepare = ("from autograder.grading import sandbox\n"
               "sandbox._prepare_interpreter(('torch.fx.experimental.symbolic_shapes',))\n")
    assert not _run(TRAINING.replace("SETUP", prepare))["compiler_loaded"]


def test_compiled_code_still_gets_torchs_marks():
    code = textwrap.dedent("""
        import json, sys, torch
        from autograder.kit.compiler_on_demand import defer_compiler_import
        applied = defer_compiler_import()
        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        def step(x):
            optimizer.zero_grad()
            loss = model(x).sum()
            loss.backward()
            optimizer.step()
            return loss.detach() * 2
        x = torch.ones(2, 3)
        step(x)
        weights = {k: v.clone() for k, v in model.state_dict().items()}  # plain SGD: no state
        eager = [step(x).item(), step(x).item()]
        model.load_state_dict(weights)
        compiled_step = torch.compile(step, backend="eager")
        compiled = [compiled_step(x).item(), compiled_step(x).item()]
        zero_grad = torch.optim.Optimizer.zero_grad.__wrapped__
        print(json.dumps({"applied": applied, "eager": eager, "compiled": compiled,
                          "marked": hasattr(zero_grad, "__dynamo_disable"),
                          "compiler_loaded": "torch._dynamo" in sys.modules}))
    """)
    result = _run(code)
    assert result["applied"] and result["compiler_loaded"]
    assert result["compiled"] == result["eager"]  # the same two steps, compiled or not
    assert result["eager"][0] != result["eager"][1]  # and they are steps
    assert result["marked"]  # once compiling, zero_grad is kept out of the graph as torch does


def test_a_torch_it_was_not_written_for_is_left_alone():
    code = textwrap.dedent("""
        import json, sys, torch
        from autograder.kit import compiler_on_demand
        compiler_on_demand.KNOWN_SOURCE["torch._compile._disable_dynamo"] = "0" * 16
        applied = compiler_on_demand.defer_compiler_import()
        zero_grad = torch.optim.Optimizer.zero_grad
        torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1).zero_grad()
        print(json.dumps({"applied": applied, "code": zero_grad.__code__.co_filename,
                          "compiler_loaded": "torch._dynamo" in sys.modules}))
    """)
    result = _run(code)
    assert not result["applied"]
    assert result["code"].endswith("_compile.py")  # torch's own inner function
    assert result["compiler_loaded"]  # slower, as torch is


def test_workers_warm_what_each_assignments_tests_import(releases):
    """What a worker imports up front follows the tests: 02 switches deterministic algorithms
    on (torch's compiler comes with it), 04 uses scikit-learn, 01 needs nothing beyond torch;
    for a batch, also what a forward on meta would import where tests build models (a guess,
    left out for one submission). Never the compiler front end by itself."""
    from autograder.bundle import load_bundle

    names = ("01-tensors", "02-reproducibility", "03-gpu", "04-mini-project")
    bundles = {name: load_bundle(releases[name].bundle) for name in names}
    one = {name: bundle.warm_modules(1) for name, bundle in bundles.items()}
    batch = {name: bundle.warm_modules(5) for name, bundle in bundles.items()}
    assert one == {"01-tensors": (), "02-reproducibility": ("torch._inductor.config",),
                   "03-gpu": (), "04-mini-project": ("sklearn.datasets",)}
    shapes = "torch.fx.experimental.symbolic_shapes"
    assert batch == {"01-tensors": (), "02-reproducibility": ("torch._inductor.config", shapes),
                     "03-gpu": (shapes,), "04-mini-project": ("sklearn.datasets", shapes)}


def test_the_notebooks_first_cell_works_before_torch_is_installed(tmp_path):
    # A student who has not installed the requirements yet hears about torch from the
    # notebook's own `import torch`, not from the grader's first cell.
    code = ("import json, sys\n"
            "sys.modules['torch'] = None  # importing it raises ImportError, as when missing\n"
            "from autograder.kit.notebook_grader import NotebookGrader\n"
            f"grader = NotebookGrader('01-tensors', tests_dir={str(tmp_path)!r})\n"
            "print(json.dumps({'created': grader.assignment}))\n")
    assert _run(code) == {"created": "01-tensors"}
