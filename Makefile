# StreamTrack developer commands. `make test` and `make demo` work on a fresh
# clone: they install what they need first (venv + pip, npm ci, system packages).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
SYSDEPS_STAMP := .localdev/.sysdeps
# checkov cannot share the dev venv (its pins conflict): a venv of its own.
INFRA_VENV := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed
# The cluster that `make test` builds from scratch and removes afterwards.
TEST_DB := test

.PHONY: help setup sysdeps lint fmt test infra-scan pgtap pytest types types-check demo dev bench-monitor bench-analytics bench-alerts bench-fidelity bench-detect db-up db-down clean

help:
	@echo "make test    install everything, lint, run pgTAP and pytest on a fresh local database"
	@echo "make demo    install everything and run the monitor on the local sandbox (report in .localdev/report)"
	@echo "make dev     run the local Functions host against the development database"
	@echo "make bench-monitor   one cycle over 10,000 channels, figures as JSON"
	@echo "make bench-analytics dashboard functions over 500 channels x 30 days of samples, JSON"
	@echo "make bench-alerts    1,000 status changes in one cycle to 300 destinations, JSON"
	@echo "make bench-fidelity  hours watched, restarts, start times and YouTube quota against the sandbox's truth, JSON"
	@echo "make bench-detect    stream detection over 10,000 channels, push on vs polling only, JSON"
	@echo "make lint    ruff and mypy strict"
	@echo "make infra-scan  checkov over infra/ (Bicep) and .github/workflows, workflow schema"
	@echo "make types   regenerate supabase/types/database.ts from the migrated local database"
	@echo "make db-up   start the local development database (python -m localdev db up)"

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(INFRA_STAMP): requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SYSDEPS_STAMP): $(VENV_STAMP)
	$(PY) -m localdev sysdeps
	mkdir -p .localdev && touch $@

setup: $(VENV_STAMP) $(NPM_STAMP) $(SYSDEPS_STAMP)

sysdeps: $(VENV_STAMP)
	$(PY) -m localdev sysdeps

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: $(VENV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One fresh cluster for the whole run: migrations are applied from scratch by
# the Supabase CLI every time, pgTAP and pytest both run against it, and it is
# removed at the end whatever happened. Both connect as `postgres`, Supabase's
# non-superuser; the superuser URL is handed to pytest only for fixtures that
# play the platform (Realtime's janitor), never for the code under test.
test: setup lint infra-scan
	$(PY) -m localdev db reset --name $(TEST_DB) --no-seed >/dev/null
	trap '$(PY) -m localdev db destroy --name $(TEST_DB)' EXIT; \
	url=$$($(PY) -m localdev db url --name $(TEST_DB)); \
	admin_url=$$($(PY) -m localdev db url --name $(TEST_DB) --admin); \
	$(MAKE) --no-print-directory pgtap DATABASE_URL="$$url"; \
	$(MAKE) --no-print-directory pytest STREAMTRACK_TEST_DATABASE_URL="$$url" \
	  STREAMTRACK_TEST_ADMIN_DATABASE_URL="$$admin_url"

# Fails on any checkov finding not skipped in place with a reason, on a template
# checkov could not parse, and on a workflow that breaks GitHub's schema.
infra-scan: $(INFRA_STAMP)
	$(INFRA_VENV)/bin/python infra/scripts/scan.py

# pg_prove runs each suite in its own session, so the helpers they share
# (schema `tests`, supabase/tests/helpers.sql) are installed in the database
# for the run and dropped afterwards, whatever happened. Never a migration.
# The suites run as Supabase's `postgres`: a superuser URL is refused, since
# it would pass tests that fail on a real project.
PGTAP_PSQL = PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 -d "$(DATABASE_URL)"
pgtap:
	if [ "$$($(PGTAP_PSQL) -tAc 'select rolsuper from pg_roles where rolname = current_user')" != f ]; then \
	  echo "pgtap: DATABASE_URL must log in as a non-superuser (Supabase's postgres)" >&2; exit 1; fi
	$(PGTAP_PSQL) -f supabase/tests/helpers.sql
	trap '$(PGTAP_PSQL) -c "drop schema if exists tests cascade"' EXIT; \
	PGOPTIONS=--client-min-messages=warning \
	  pg_prove --ext .sql --failures --dbname "$(DATABASE_URL)" supabase/tests/database/*.test.sql

# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
pytest: $(VENV_STAMP)
	rc=0; STREAMTRACK_TEST_DATABASE_URL="$(STREAMTRACK_TEST_DATABASE_URL)" \
	  STREAMTRACK_TEST_ADMIN_DATABASE_URL="$(STREAMTRACK_TEST_ADMIN_DATABASE_URL)" \
	  $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$rc

types: setup
	$(PY) -m localdev types

types-check: setup
	$(PY) -m localdev types --check

db-up: setup
	$(PY) -m localdev db up

db-down: $(VENV_STAMP)
	$(PY) -m localdev db down

# The main job on local defaults: a fresh `demo` database, the platform
# sandbox with 300 channels, 180 monitoring cycles in simulated time, a
# summary and .localdev/report/index.html.
demo: setup
	$(PY) -m localdev demo $(DEMO_ARGS)

# The local Functions host on 127.0.0.1:7071 against the development database;
# platform credentials and settings come from local.settings.json.
dev: setup
	url=$$($(PY) -m localdev db up); DATABASE_URL="$$url" $(PY) -m localdev host

# One monitoring cycle over 10,000 channels against the sandbox with 80 ms
# latency; the last line is JSON with the figures next to their baselines.
bench-monitor: setup
	$(PY) -m bench.monitor $(BENCH_ARGS)

# 500 channels x 30 days of 1-minute samples (~21.5 M rows, a few GB) on a
# throwaway cluster, then p50/p95 of the dashboard functions next to the same
# answers from raw samples; the last line is JSON. The cluster is removed.
bench-analytics: setup
	$(PY) -m bench.analytics $(BENCH_ARGS)

# 1,000 status changes in one cycle (100 teams x 10 channels, 3 destinations each)
# against the local alert sink with 80 ms latency and 5 % 429s, on a throwaway
# cluster; the last line is JSON (delivered, duplicates, lost, p50_s, p95_s).
bench-alerts: setup
	$(PY) -m bench.alerts $(BENCH_ARGS)
# 300 channels x 6 simulated hours at 1-minute sampling and 100 channels x 3
# days at 5-minute sampling against the sandbox's ground truth, each on a
# throwaway cluster; the last line is JSON with the figures, the previous hold
# rule's figures from the same samples, and the targets.
bench-fidelity: setup
	$(PY) -m bench.fidelity $(BENCH_ARGS)
# 10,000 channels against the sandbox: detection delay (truth start to
# channel_status live) and live-state requests per cycle with push on and with
# polling only, then push with 10% of deliveries dropped; the last line is JSON.
bench-detect: setup
	$(PY) -m bench.detect $(BENCH_ARGS)

clean:
	-$(PY) -m localdev db destroy --name dev
	-$(PY) -m localdev db destroy --name $(TEST_DB)
	rm -rf .localdev .mypy_cache .ruff_cache .pytest_cache dist
