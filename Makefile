# Every target installs what it needs into .venv (pinned by constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install release examples demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

release: $(STAMP)
	$(BIN)/autograder release

# The shipped example submissions (examples/), made from the releases and tests/answers.
examples: release
	$(BIN)/python tests/make_examples.py

demo: release
	$(BIN)/autograder grade-examples --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check autograder tests

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf dist out .pytest_cache
