# The two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install run test test-service test-infra test-runtime lint fmt bench profile fuzz openapi clean

help:
	@echo "make run      start the service on 127.0.0.1:8000 with a throwaway database"
	@echo "              (RATELIMIT=1: also a throwaway Redis, rate limits on, a limited demo key)"
	@echo "make test     run every test (service and infra)"
	@echo "make test-runtime  the Lambda handler under the ADOT layer's runtime (pip needs the network)"
	@echo "make lint     ruff + mypy"
	@echo "make synth    synthesize the CDK app (ENV=name for one environment)"
	@echo "make diff     template diff against BASE (default main), offline"
	@echo "make package  build and check the Lambda bundle"
	@echo "make bootstrap  cdk bootstrap an environment (ENV=name required)"
	@echo "make preflight  the routing plan against the live listener rules (ENV=name, RULES=dir)"
	@echo "make deploy   preflight, then cdk deploy (ENV=name required)"
	@echo "make bench    benchmark harness, writes BENCHMARKS.md and its charts (benchmarks/)"
	@echo "make profile  flame graph of the v2 rescoring path (benchmarks/rescoring-flame.svg)"
	@echo "make fuzz     schemathesis against the local server on every route (FUZZ_ARGS=...)"
	@echo "make openapi  rebuild service/openapi.json from tools/openapi_document.py"
	@echo "make clean    remove the venv, node_modules, build output and .data/"

install: $(STAMP)

# Re-installs only when a requirements or lock file changes.
$(STAMP): requirements.txt service/requirements.txt $(wildcard infra/requirements.txt) $(wildcard package-lock.json)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# pip never removes a package the requirements dropped; this one would break auto-instrumentation
	# (its Falcon 4 instrumentation is of a newer OpenTelemetry than the pinned one).
	$(PY) -m pip uninstall --quiet --yes opentelemetry-instrumentation-falcon 2>/dev/null || true
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
	touch $(STAMP)

# RATELIMIT=1: also a throwaway Redis, limits on, and a key with a small limit to try them.
run: install
	$(PY) -m tools.run_local $(if $(filter 1 true yes on,$(RATELIMIT)),--ratelimit)

# tests/runtime installs the bundle and the ADOT layer's packages with pip: make test-runtime.
test: install
	$(PY) -m pytest --ignore=tests/runtime

test-service: install
	$(PY) -m pytest tests/service

test-infra: install
	$(PY) -m pytest tests/infra

test-runtime: install
	$(PY) -m pytest tests/runtime

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m tools.bench

# py-spy samples the harness's own process while it rescores (PROFILE_ARGS=--stamps 25 ...).
profile: install
	$(PY) -m tools.profile $(PROFILE_ARGS)

# Bounded: --max-examples per operation (default 150) and --max-minutes (default 15).
fuzz: install
	$(PY) -m tools.fuzz $(FUZZ_ARGS)

openapi: install
	$(PY) -m tools.openapi_document

clean:
	-@if [ -f .data/pg/pgdata/postmaster.pid ] && [ -x $(PY) ]; then $(PY) -m tools.run_local --stop; fi
	rm -rf $(VENV) node_modules cdk.out .lambda-bundle build .data .pytest_cache .mypy_cache .ruff_cache .hypothesis

-include infra/infra.mk
