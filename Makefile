# Everything a fresh clone needs: `make demo` opens the app, `make test` runs the tests.
VENV   := .venv
PYTHON ?= python3
BIN    := $(VENV)/bin

.PHONY: demo test quick lint format bench lock clean

# Two environments in one .venv: the application alone (requirements.lock), which is all
# `make demo` installs, and the test and lint tools on top (requirements-dev.lock) for `make test`.
APP := $(BIN)/.app-installed
DEV := $(BIN)/.installed

$(APP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(DEV): $(APP) requirements-dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.lock
	touch $@

demo: $(APP)
	$(BIN)/mesomix --demo

# Four workers on two cores: much of the suite waits (Pilot pauses, subprocesses, PostgreSQL),
# so two more overlap that wait. Two tests at a time to a worker: the slow journeys, collected
# first (tests/conftest.py), then spread over the workers instead of queueing on one.
test: $(DEV)
	$(BIN)/python -m pytest -q -n 4 --maxschedchunk 2
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The inner loop: everything but the tests marked slow (which `make test` and CI still run).
quick: $(DEV)
	$(BIN)/python -m pytest -q -n 4 --maxschedchunk 2 -m "not slow"

# ruff, mypy ([tool.mypy] in pyproject.toml: all of mesomix strict), and the layers
# ([tool.importlinter]: imports point downward only).
lint: $(DEV)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports

format: $(DEV)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(DEV)
	$(BIN)/python -m benchmarks

# Both locks from what .venv holds: the application's packages (pyproject.toml's dependencies and
# theirs) in requirements.lock, the rest in requirements-dev.lock.
lock: $(DEV)
	$(BIN)/python tools/lock.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis
