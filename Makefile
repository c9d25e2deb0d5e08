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

DOCS_ADDR ?= 127.0.0.1:8001
SITE_DIR := site
# `make dist` builds here, then installs the wheel into a fresh virtualenv to try it.
DIST_DIR := dist

.PHONY: demo test test-postgres lint format typecheck docs docs-serve dist check-migrations bench bench-scale bench-peers bench-integrations bench-server clean install

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# The distribution was called django-trackable before (a name PyPI gives to another
	@# project): a virtualenv made then would hold both, each claiming django_trackable.
	$(BIN)/python -m pip uninstall --quiet --yes django-trackable 2>/dev/null || true
	rm -rf django_trackable.egg-info
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
	cd example_project && ../$(BIN)/python manage.py seed_demo --addr $(DEMO_ADDR)
	cd example_project && ../$(BIN)/python manage.py seed_prices
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

## make docs: build the documentation (MkDocs, strict) into site/; open site/index.html.
docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(SITE_DIR)
	@echo "Documentation built in $(abspath $(SITE_DIR)): open $(abspath $(SITE_DIR))/index.html"

## make docs-serve: MkDocs' dev server on $(DOCS_ADDR), rebuilding on every edit.
docs-serve: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr $(DOCS_ADDR)

## make dist: build the sdist and wheel into dist/, check them with twine, then install
## the wheel into a fresh virtualenv and run a minimal project on it (.ci/check_dist.py).
dist: $(INSTALLED)
	rm -rf $(DIST_DIR)
	$(BIN)/python -m build --quiet --outdir $(DIST_DIR) .
	$(BIN)/twine check --strict $(DIST_DIR)/*
	$(BIN)/python .ci/check_dist.py $(DIST_DIR) "$(DJANGO)"

check-migrations: $(INSTALLED)
	$(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings --pythonpath=.

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.core $(BENCH_ARGS)

## make bench-scale: every history-at-scale target, each operation committed, on SQLite
## and then on a throwaway PostgreSQL that flushes every commit, as a production server does.
bench-scale: $(INSTALLED)
	$(BIN)/python -m benchmarks.scale $(BENCH_ARGS)
	TRACKABLE_PG_DURABLE=1 bash .ci/with-postgres.sh $(BIN)/python -m benchmarks.scale $(BENCH_ARGS)

## make bench-peers: the same operations on django-simple-history, django-auditlog and
## django-pghistory (PostgreSQL only), installed in their own virtualenv.
bench-peers: $(PEERS_INSTALLED)
	$(PEERS_BIN)/python -m benchmarks.peers $(BENCH_ARGS)

## make bench-integrations: a save with our reversion / simple-history integration on,
## against the same library alone (both are in the [dev] extra).
bench-integrations: $(INSTALLED)
	$(BIN)/python -m benchmarks.integrations $(BENCH_ARGS)

## make bench-server: req/s and CPU per request under uvicorn and gunicorn on loopback,
## plain site against tracking and visits (PostgreSQL: bash .ci/with-postgres.sh make bench-server).
bench-server: $(INSTALLED)
	$(BIN)/python -m benchmarks.server $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(PEERS_VENV) $(SITE_DIR) .site $(DIST_DIR) build .coverage example_project/db.sqlite3
