# Everything a developer or CI runs. `make run` and `make test` install what they need themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test lint typecheck unit integration e2e pytest validate build bench clean deploy openapi openapi-check schemathesis setup-webhooks chromium

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

# SAM CLI pins its own boto3/click versions, so it lives in a virtual environment of its own.
$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --upgrade pip
	$(SAM_VENV)/bin/python -m pip install -q -r requirements-sam.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python -m local.run

test: lint typecheck openapi-check pytest schemathesis validate build

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy
	# Every function folder has its own app.py, so each is checked on its own.
	for fn in functions/*/; do $(BIN)/mypy $$fn*.py || exit 1; done

# The admin console's browser tests drive Debian's chromium (Playwright's Python package only: its own browser
# downloads are never used). Installed with apt when missing; CI runs as root, a developer through sudo.
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

pytest: $(VENV)/.installed chromium
	$(BIN)/pytest -q tests --ignore=tests/e2e/test_schemathesis.py

unit: $(VENV)/.installed
	$(BIN)/pytest -q tests/unit

integration: $(VENV)/.installed
	$(BIN)/pytest -q tests/integration

# Every function's lambda_handler in process (moto, respx): every route's statuses and error shapes.
.PHONY: handlers
handlers: $(VENV)/.installed
	$(BIN)/pytest -q tests/handlers

e2e: $(VENV)/.installed chromium
	$(BIN)/pytest -q tests/e2e

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

build: $(SAM_VENV)/.installed
	$(SAM) build --cached --parallel

openapi: $(VENV)/.installed
	$(BIN)/python -m local.openapi

# docs/openapi.json must be what the code generates (regenerated to a temporary file and compared).
openapi-check: $(VENV)/.installed
	$(BIN)/python -m local.openapi --check

# Schemathesis over that document against the local runtime: fixed seed, bounded examples; fails on any 5xx or
# any answer the document does not describe. Prints the counts (operations, cases, failures).
schemathesis: $(VENV)/.installed
	$(BIN)/pytest -q -s tests/e2e/test_schemathesis.py

# The shop's webhooks for this service (idempotent): BASE_URL=https://api.example.com make setup-webhooks,
# with WOOCOMMERCE_URL, WOOCOMMERCE_CONSUMER_KEY/SECRET and WOOCOMMERCE_WEBHOOK_SECRET (or their *_PARAM).
setup-webhooks: $(VENV)/.installed
	$(BIN)/python -m local.setup_webhooks $(if $(BASE_URL),--base-url $(BASE_URL))

# The stage's SSM SecureString parameters, named from the template's *_PARAM variables: values from .env
# (gitignored; ENV_FILE=...) or prompts. `make secrets STAGE=prod LIST=1` lists them and whether each is set.
.PHONY: secrets
STAGE ?= dev
secrets: $(VENV)/.installed
	$(BIN)/python -m local.put_secrets --stage $(STAGE) $(if $(ENV_FILE),--env-file $(ENV_FILE)) $(if $(LIST),--list)

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
