# The project's commands. CI (.ci/run) calls these same targets.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
RUNSERVER_FLAGS ?=
PYTEST_ARGS ?=
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run prepare test lint format check check-deploy bench cluster clean help

help:
	@echo "make run     set up .venv, migrate, load demo content, ensure an admin, serve http://$(HOST):$(PORT)/"
	@echo "make test    install the test requirements and run the whole suite (DATABASE_URL picks the database)"
	@echo "make lint    ruff and djhtml"
	@echo "make check   Django's system checks, migrations check, production deploy check"
	@echo "make bench   measure page speed (see README)"
	@echo "make cluster two app servers, the worker, object storage and Varnish on http://127.0.0.1:$${CLUSTER_PORT:-8080}/"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed; set PYTHON=/path/to/python3.11")'
	@echo "==> Creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	@echo "==> Installing the runtime requirements"
	$(PIP_INSTALL) -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "==> Installing the test and development requirements"
	$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime-installed

prepare: $(VENV)/.runtime-installed
	@echo "==> Applying database migrations"
	$(MANAGE) migrate --noinput
	@echo "==> Loading the demo content (safe to repeat)"
	$(MANAGE) load_demo_content
	@echo "==> Making sure an admin account exists"
	$(MANAGE) ensure_admin

run: prepare
	@echo "==> Serving the site at http://$(HOST):$(PORT)/ (admin at /admin/); press Ctrl+C to stop"
	$(MANAGE) runserver $(RUNSERVER_FLAGS) $(HOST):$(PORT)

test: $(VENV)/.dev-installed
	@echo "==> Running the test suite on $${DATABASE_URL:-SQLite}"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djhtml --check templates

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djhtml templates

check: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=practice.settings.test $(MANAGE) check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=practice.settings.test $(MANAGE) makemigrations --check --dry-run
	$(MAKE) --no-print-directory check-deploy

# The production settings with the values documented in .env.example.
check-deploy: $(VENV)/.runtime-installed
	set -a && . ./.env.example && set +a && $(MANAGE) check --deploy --fail-level WARNING

# BENCH_ARGS="--only pages,frontcache,bookings" runs some parts; `.venv/bin/python -m bench --help` lists the options.
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

# Needs PostgreSQL, Redis and Varnish on this machine (see deploy/two-servers.md); Ctrl+C stops it all.
cluster: $(VENV)/.dev-installed
	$(BIN)/python -m bench.cluster

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
