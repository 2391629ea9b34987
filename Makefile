# Everything a fresh clone needs: `make demo` opens the app, `make test` runs the tests.
VENV   := .venv
PYTHON ?= python3
BIN    := $(VENV)/bin

.PHONY: demo test quick lint format bench lock clean

$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

demo: $(BIN)/.installed
	$(BIN)/mesomix --demo

# Four workers on two cores: much of the suite waits (Pilot pauses, subprocesses, PostgreSQL),
# so two more overlap that wait. Two tests at a time to a worker: the slow journeys, collected
# first (tests/conftest.py), then spread over the workers instead of queueing on one.
test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 4 --maxschedchunk 2
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The inner loop: everything but the tests marked slow (which `make test` and CI still run).
quick: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 4 --maxschedchunk 2 -m "not slow"

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

lock: $(BIN)/.installed
	{ echo "# Exact versions for a fresh machine (pip install -r requirements.lock). Regenerate with `make lock`."; $(BIN)/python -m pip freeze --exclude-editable | grep -vi "^mesomix"; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
