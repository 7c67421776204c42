# Tandem: `make run` starts the suite with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test test-fast lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tandem run --demo

demo: $(STAMP)
	$(BIN)/tandem demo

test: $(STAMP)
	bash tests/browser/ensure-chromium.sh
	$(BIN)/python -m pytest

# The inner loop: domain and integration tests on SQLite, no browser, no live suite.
test-fast: $(STAMP)
	TEST_DATABASE_URL= $(BIN)/python -m pytest -q -x tests/unit tests/integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench pipeline

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
