# Everything a developer or CI runs (`make help` lists the targets). `make run` and `make test` install what
# they need themselves: only make, git and a Python of the template's version (pyenv's, or on PATH) are needed.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# The interpreter: the version the template's Runtime names (python3.13), so what is tested is what is deployed.
# pyenv's newest build of it when pyenv has one, else python3.X on PATH. PYTHON=... overrides the venvs' one.
PY_VERSION := $(or $(shell sed -n 's/^ *Runtime: *python\([0-9][0-9.]*\).*/\1/p' template.yaml | head -n 1),3.13)
RUNTIME_PYTHON := $(or $(shell d="$$(pyenv root 2>/dev/null)"; [ -n "$$d" ] && ls -d "$$d"/versions/$(PY_VERSION).*/bin/python$(PY_VERSION) 2>/dev/null | sort -V | tail -n 1),$(shell command -v python$(PY_VERSION)))
PYTHON ?= $(RUNTIME_PYTHON)
VENV := .venv
SAM_VENV := .venv-sam
TOOLS := .venv-tools
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
# uv (a PyPI package) creates the venvs and installs into them: about 10x faster than pip, with progress.
# It is bootstrapped into a venv of its own with the standard library's venv and pip, once: no global install,
# no download script, and the same pinned version on every machine.
UV_VERSION := 0.13.8
UV := $(TOOLS)/bin/uv
# The interpreter is always the one named above, never one uv downloads.
export UV_PYTHON_DOWNLOADS := never
export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)
export SAM_CLI_TELEMETRY := 0
# Bytecode is written (to the gitignored __pycache__ folders) even where the shell says PYTHONDONTWRITEBYTECODE:
# the tests start a few hundred interpreters (local runtimes, function containers, cold starts), and without .pyc
# each compiled boto3, pydantic and moto again (the parallel pass took 3 min 37 s without, 3 min 9 s with). It
# also makes `make bench`'s cold starts those of Lambda, whose runtime and layer ship bytecode.
unexport PYTHONDONTWRITEBYTECODE
export AWS_DEFAULT_REGION ?= us-east-1
# pytest workers (pytest-xdist): two per core, as the e2e tests spend much of their time waiting (simulated
# timeouts, retries): on 2 cores the parallel pass took 3 min 55 s with 4 workers, 4 min 32 s with 2.
# PYTEST_WORKERS=auto is one per core; 0 runs everything in one process.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
# Where `make run` writes its addresses (read by `make env-json`).
RUN_CONFIG ?= .local-run.json

.PHONY: help run test test-beside pytest-parallel pytest-serial lint typecheck unit integration handlers e2e pytest validate build bench clean deploy openapi \
	openapi-check schemathesis setup-webhooks chromium lock secrets credentials env-json

help: ## every target, one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# One clear line when the interpreter is missing, before anything is created.
CHECK_PYTHON = test -n "$(PYTHON)" -a -x "$(PYTHON)" || { echo "make: Python $(PY_VERSION) (the template's Runtime)" \
	"not found: pyenv install $(PY_VERSION), or python$(PY_VERSION) on PATH, or PYTHON=/path/to/python$(PY_VERSION)" >&2; exit 1; }

$(UV):
	@$(CHECK_PYTHON)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --disable-pip-version-check uv==$(UV_VERSION)

# A venv is created once; one of another Python (an older checkout's) is refused in one line, never replaced
# under whoever is using it.
define make_venv
	@$(CHECK_PYTHON)
	@if [ -e $(1)/bin/python ] && ! $(1)/bin/python -c 'import sys; assert sys.version.startswith("$(PY_VERSION).")' 2>/dev/null; \
		then echo "make: $(1) is not Python $(PY_VERSION) (the template's Runtime): make clean, then make again" >&2; exit 1; fi
	@test -x $(1)/bin/python || $(UV) venv --python $(PYTHON) $(1)
endef

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt | $(UV)
	$(call make_venv,$(VENV))
	$(UV) pip install --python $(BIN)/python -r requirements-dev.txt
	touch $@

# SAM CLI pins its own boto3/click versions, so it lives in a virtual environment of its own.
$(SAM_VENV)/.installed: requirements-sam.txt | $(UV)
	$(call make_venv,$(SAM_VENV))
	$(UV) pip install --python $(SAM_VENV)/bin/python -r requirements-sam.txt
	touch $@

run: $(VENV)/.installed ## the whole system on this machine (embedded DynamoDB, simulators, the API on :3000)
	LOCAL_CONFIG_FILE=$${LOCAL_CONFIG_FILE:-$(RUN_CONFIG)} $(BIN)/python -m local.run

# The checks that need no running stack (lint, mypy, the OpenAPI drift check, sam validate and build: about
# 30 s) run beside the parallel pass, which leaves part of a core idle while its tests wait on timeouts. Their
# output is held in a file: printed as soon as one fails (amid the tests' progress), else after the pass. The
# serial pass starts once both are done; a failure of either fails the run.
BESIDE_LOG := .test-beside.log
test: ## everything CI runs (.ci/run): the checks beside the parallel tests, then the serial tests
	@$(MAKE) --no-print-directory $(VENV)/.installed $(SAM_VENV)/.installed chromium
	@echo "make test: lint, typecheck, openapi-check, validate and build run beside the tests (output after them)"
	@{ $(MAKE) --no-print-directory test-beside > $(BESIDE_LOG) 2>&1 || \
	    { echo; echo "make test: a check failed:"; cat $(BESIDE_LOG); exit 1; }; } & beside=$$!; \
	  $(MAKE) --no-print-directory pytest-parallel; tests=$$?; \
	  wait $$beside; checks=$$?; \
	  if [ $$checks -eq 0 ]; then echo "---- lint, typecheck, openapi-check, validate, build"; cat $(BESIDE_LOG); \
	  else echo "make test: a check failed (its output is above)" >&2; fi; \
	  test $$tests -eq 0 -a $$checks -eq 0
	@$(MAKE) --no-print-directory pytest-serial

test-beside: lint typecheck openapi-check validate build ## the checks make test runs beside the parallel tests

lint: $(VENV)/.installed ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed ## mypy (strict) over the layer, local/, bench/ and every function folder
	$(BIN)/mypy
	# Every function folder has its own app.py, so each is checked on its own.
	for fn in functions/*/; do $(BIN)/mypy $$fn*.py || exit 1; done

# The admin console's browser tests drive Debian's chromium (Playwright's Python package only: its own browser
# downloads are never used). Installed with apt when missing; CI runs as root, a developer through sudo.
CHROMIUM := /usr/bin/chromium
chromium: ## install Debian's chromium for the browser tests when missing (apt-get)
	@test -x $(CHROMIUM) || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# Files run in parallel, each whole on one worker (--dist loadgroup; tests/conftest.py names the groups: a file,
# or a file's tests under one Topomer answer style), so an e2e module's stack is its worker's; every worker starts
# its own local runtime on free ports. Tests marked `serial` (timing budgets that a loaded
# machine would break) run after, alone.
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)
CHECK_WORKERS = [[ "$(PYTEST_WORKERS)" =~ ^(auto|[0-9]+)$$ ]] || { echo "make: PYTEST_WORKERS must be auto or a number" \
	"of workers (0: one process), got '$(PYTEST_WORKERS)'" >&2; exit 1; }
pytest: ## every test (schemathesis too): in parallel, then the serial ones
	@$(MAKE) --no-print-directory pytest-parallel
	@$(MAKE) --no-print-directory pytest-serial

# Schemathesis runs in the parallel pass, first (tests/conftest.py), and its counts are printed in the pass's
# summary.
pytest-parallel: $(VENV)/.installed ## the tests run in parallel (pytest-xdist), schemathesis first
	@$(CHECK_WORKERS)
	$(BIN)/pytest -q $(XDIST) -m "not serial" tests

pytest-serial: $(VENV)/.installed chromium ## the tests marked serial (the browser journeys), alone
	$(BIN)/pytest -q -m serial tests || test $$? -eq 5  # 5: none marked

unit: $(VENV)/.installed ## tests/unit
	@$(CHECK_WORKERS)
	$(BIN)/pytest -q $(XDIST) tests/unit

integration: $(VENV)/.installed ## tests/integration (stores and services against moto)
	@$(CHECK_WORKERS)
	$(BIN)/pytest -q $(XDIST) tests/integration

# Every function's lambda_handler in process (moto, respx): every route's statuses and error shapes.
handlers: $(VENV)/.installed ## tests/handlers (each lambda_handler in process, about 20 s)
	$(BIN)/pytest -q tests/handlers

e2e: $(VENV)/.installed chromium ## tests/e2e over HTTP against the local runtime (schemathesis aside)
	@$(CHECK_WORKERS)
	$(BIN)/pytest -q $(XDIST) -m "not serial" tests/e2e --ignore=tests/e2e/test_schemathesis.py
	$(BIN)/pytest -q -m serial tests/e2e --ignore=tests/e2e/test_schemathesis.py || test $$? -eq 5

validate: $(SAM_VENV)/.installed ## sam validate --lint
	$(SAM) validate --lint

# sam build runs pip of the python3.X the Runtime names: that interpreter's bin goes first on PATH.
build: $(SAM_VENV)/.installed ## sam build (layer and functions for arm64), with the Runtime's Python on PATH
	PATH="$(dir $(RUNTIME_PYTHON)):$$PATH" $(SAM) build --cached --parallel

openapi: $(VENV)/.installed ## regenerate docs/openapi.json
	$(BIN)/python -m local.openapi

# docs/openapi.json must be what the code generates (regenerated to a temporary file and compared).
openapi-check: $(VENV)/.installed ## docs/openapi.json is what the code generates
	$(BIN)/python -m local.openapi --check

# Schemathesis over that document against the local runtime: fixed seed, bounded examples; fails on any 5xx or
# any answer the document does not describe. Prints the counts (operations, cases, failures).
schemathesis: $(VENV)/.installed ## property-based tests of the API over docs/openapi.json
	$(BIN)/pytest -q -s tests/e2e/test_schemathesis.py

# The shop's webhooks for this service (idempotent): BASE_URL=https://api.example.com make setup-webhooks,
# with WOOCOMMERCE_URL, WOOCOMMERCE_CONSUMER_KEY/SECRET and WOOCOMMERCE_WEBHOOK_SECRET (or their *_PARAM).
setup-webhooks: $(VENV)/.installed ## the shop's webhooks for this service: BASE_URL=https://api... make setup-webhooks
	$(BIN)/python -m local.setup_webhooks $(if $(BASE_URL),--base-url $(BASE_URL))

# layers/shared/requirements.txt, the layer's lock (installed by sam build and, through requirements-dev.txt, the
# venv): requirements-layer.in resolved in a clean venv of the Runtime's Python, every package pinned exactly.
lock: | $(UV) ## re-resolve layers/shared/requirements.txt from requirements-layer.in
	rm -rf .venv-lock && $(UV) venv --python $(RUNTIME_PYTHON) .venv-lock
	$(UV) pip install --python .venv-lock/bin/python -r requirements-layer.in
	{ echo "# Generated by \`make lock\` from requirements-layer.in (edit that file, then run make lock): every runtime"; \
	  echo "# dependency of the layer pinned exactly. \`sam build\` installs it into the layer; requirements-dev.txt into the venv."; \
	  $(UV) pip freeze --python .venv-lock/bin/python; } > layers/shared/requirements.txt
	rm -rf .venv-lock

# The stage's SSM SecureString parameters, named from the template's *_PARAM variables: values from .env
# (gitignored; ENV_FILE=...) or prompts. `make secrets STAGE=prod LIST=1` lists them and whether each is set.
STAGE ?= dev
secrets: $(VENV)/.installed ## a stage's SSM secrets: make secrets STAGE=prod [LIST=1] [ENV_FILE=.env]
	$(BIN)/python -m local.put_secrets --stage $(STAGE) $(if $(ENV_FILE),--env-file $(ENV_FILE)) $(if $(LIST),--list)

# A signed account request body for the local runtime (local.account_credentials), for curl.
credentials: $(VENV)/.installed ## the account API's credentials for a user: make credentials UID=1 [BLOG=1] [TTL=3600]
	@$(BIN)/python -m local.account_credentials $(UID) $(BLOG) $(TTL)

# env.json for `sam local start-api --env-vars env.json`, pointing at the simulators and DynamoDB of a running
# `make run` as Docker containers reach the host (SIM_HOST, default host.docker.internal).
env-json: $(VENV)/.installed ## env.json for sam local start-api, from a running make run [SIM_HOST=127.0.0.1]
	@$(BIN)/python -m local.env_json --config $${LOCAL_CONFIG_FILE:-$(RUN_CONFIG)} \
		$(if $(SIM_HOST),--host '$(SIM_HOST)') --output env.json

bench: $(VENV)/.installed ## the measurements table (cold starts, round trips, warm latencies)
	$(BIN)/python -m bench.run

deploy: build ## sam deploy --guided
	$(SAM) deploy --guided

clean: ## remove the venvs and every cache and build
	rm -rf $(VENV) $(SAM_VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache $(BESIDE_LOG)
	find . -name __pycache__ -type d -not -path "./.git/*" -prune -exec rm -rf {} +
