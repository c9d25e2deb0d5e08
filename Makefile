# The two commands in the README: `make demo` and `make test`. Both set up
# everything they need (a virtualenv with the package and its dev tools).

PYTHON ?= python3
VENV ?= .venv
DJANGO ?= Django>=5.2,<5.3
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The peer libraries of `make bench-peers` get a virtualenv of their own.
PEERS_VENV ?= .venv-peers
PEERS_BIN := $(PEERS_VENV)/bin
PEERS_INSTALLED := $(PEERS_VENV)/.installed
BENCH_ARGS ?=
DEMO_ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: demo test test-postgres lint format typecheck docs check-migrations bench bench-peers bench-integrations clean install

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" "$(DJANGO)"
	@touch $(INSTALLED)

install: $(INSTALLED)

$(PEERS_INSTALLED): pyproject.toml benchmarks/requirements-peers.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_BIN)/python -m pip install --quiet --upgrade pip
	$(PEERS_BIN)/python -m pip install --quiet -e . "$(DJANGO)"
	$(PEERS_BIN)/python -m pip install --quiet -r benchmarks/requirements-peers.txt "$(DJANGO)"
	@touch $(PEERS_INSTALLED)

## make demo: migrate the example site (SQLite), add sample data, serve it.
demo: $(INSTALLED)
	cd example_project && ../$(BIN)/python manage.py migrate --noinput
	cd example_project && ../$(BIN)/python manage.py seed_demo
	cd example_project && ../$(BIN)/python manage.py runserver $(DEMO_ADDR)

## make test: the test suite (SQLite; TRACKABLE_TEST_DB=postgresql and PG* for PostgreSQL).
test: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make test-postgres: the suite on a throwaway PostgreSQL cluster started here.
test-postgres: $(INSTALLED)
	bash .ci/with-postgres.sh $(MAKE) test

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(INSTALLED)
	$(BIN)/mypy

docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir .site

check-migrations: $(INSTALLED)
	$(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings --pythonpath=.

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.core $(BENCH_ARGS)

## make bench-peers: the same operations on django-simple-history, django-auditlog and
## django-pghistory (PostgreSQL only), installed in their own virtualenv.
bench-peers: $(PEERS_INSTALLED)
	$(PEERS_BIN)/python -m benchmarks.peers $(BENCH_ARGS)

## make bench-integrations: a save with our reversion / simple-history integration on,
## against the same library alone (both are in the [dev] extra).
bench-integrations: $(INSTALLED)
	$(BIN)/python -m benchmarks.integrations $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(PEERS_VENV) .site .coverage example_project/db.sqlite3
