# CTIP Bridge. Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
DEMO_DIR ?= .demo
# Test processes (pytest-xdist); whole test files go to one worker, so the processes and
# browsers a module starts once are shared by its tests.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: install demo test test-pg test-browser lint format bench messages clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	$(BIN)/ctip demo --dir $(DEMO_DIR)

# Lint, then the whole suite (SQLite; browser tests run where Chromium is installed).
test: install lint
	$(PYTEST)

# The same suite on PostgreSQL (DATABASE_URL, default: the local server, trust auth).
# Tests marked slow start their own node processes (each with its own SQLite home, or
# their own PostgreSQL databases) and ignore DATABASE_URL: `make test` has run them.
test-pg: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ctip} $(PYTEST) -m "not browser and not slow"

test-browser: install
	CTIP_REQUIRE_BROWSER=1 $(PYTEST) -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench

messages: install
	cd ctip && ../$(BIN)/ctip makemessages -l km -l zh_Hans --no-obsolete
	cd ctip && ../$(BIN)/ctip compilemessages

clean:
	rm -rf $(VENV) $(DEMO_DIR)
