# Every target installs what it needs into .venv (pinned by constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install install-grader release examples demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# What grading needs, without the dev tools (CI templates). The stamp is named by the pins'
# content, not dated: an environment restored from a CI cache counts as up to date.
GRADER_STAMP := $(VENV)/.grader-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)

install-grader: $(GRADER_STAMP)

$(GRADER_STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	rm -f $(VENV)/.grader-*
	touch $@

release: $(STAMP)
	$(BIN)/autograder release

# The shipped example submissions (examples/), made from the releases and tests/answers.
examples: release
	$(BIN)/python tests/make_examples.py

demo: release
	$(BIN)/autograder grade-examples --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check autograder tests
	$(BIN)/mypy

# Two test processes (the cores here): a test file stays in one process, so its module
# fixtures run once, except the heavy files, split by assignment; releases and graded batches
# are built once for both, and the longest units start first (tests/conftest.py). Lint runs
# beside them (the tests' first seconds leave a core idle); its output comes after theirs, and
# either failing fails the target.
test: $(STAMP)
	@$(MAKE) --no-print-directory lint > $(VENV)/lint.log 2>&1 & lint=$$!; \
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=25; tests=$$?; \
	wait $$lint; linted=$$?; echo "--- make lint"; cat $(VENV)/lint.log; \
	test $$tests -eq 0 && test $$linted -eq 0

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf dist out .pytest_cache
