# The local (no Docker) way to run and test the stack. `make help` lists the targets.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Settings given on the command line (`make up HTTP_PORT=9090`) reach the stack too.
# The names come from the one registry (authcore/authcore/settings_registry.py).
SETTINGS := $(shell $(PYTHON) authcore/authcore/settings_registry.py names)
$(foreach v,$(SETTINGS),$(if $(filter command line,$(origin $(v))),$(eval export $(v))))

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install the system packages the stack and its tests need (postgresql, redis-server, nginx, chromium, prometheus and its nginx exporter, node and npm, oathtool), if missing
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	command -v prometheus-nginx-exporter >/dev/null || missing="$$missing prometheus-nginx-exporter"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v oathtool >/dev/null || missing="$$missing oathtool"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root, or: sudo apt-get install$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): requirements-dev.txt auth_service/requirements.txt api_service/requirements.txt mailsink/requirements.txt \
		authcore/pyproject.toml auth_service/pyproject.toml api_service/pyproject.toml tests/js/package-lock.json \
		tests/browser/axe/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --no-deps -e ./authcore -e ./auth_service -e ./api_service
	@# tests/keys: Node's jose as an independent verifier (the lock file pins it).
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	@# tests/browser: axe-core checks every state the browser tests reach (the lock file pins it).
	cd tests/browser/axe && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: venv
venv: $(STAMP) ## create .venv with the pinned requirements

.PHONY: env
env: venv ## write .env with fresh secrets for `docker compose up` and `make run`, and keys/oidc-signing.jwks.json for docker-compose.oidc.yml (never overwrites; adds what an older one lacks)
	@$(PY) -m runner env

.PHONY: run
run: deps venv ## start the whole stack in the foreground (Ctrl-C stops it)
	PATH="/usr/sbin:$$PATH" $(PY) -m runner run

.PHONY: up
up: deps venv ## start the whole stack in the background; returns once healthy
	PATH="/usr/sbin:$$PATH" $(PY) -m runner up

.PHONY: down
down: ## stop the stack started by `make up`, leaving no process
	@$(PY) -m runner down

.PHONY: ps
ps: ## show the state of each process of the stack
	@$(PY) -m runner ps

.PHONY: logs
logs: ## show the last log lines of each process (S=<service> for one)
	@$(PY) -m runner logs $(S)

.PHONY: audit-verify
audit-verify: ## check the audit trail's hash chain of the running stack; exit 1 at a broken link
	@$(PY) -m runner audit-verify

.PHONY: stop
stop: ## stop one part: S=postgres|redis|mailsink|auth_service|api_service|whoami|nginx|nginx_exporter
	@$(PY) -m runner stop $(S)

.PHONY: start
start: ## start one part again: S=postgres|redis|mailsink|auth_service|api_service|whoami|nginx|nginx_exporter
	@$(PY) -m runner start $(S)

.PHONY: admin
admin: ## create the first admin of the running stack: make admin USER=<name> EMAIL=<email> (asks the password)
	@if [ "$(origin USER)" != "command line" ] || [ -z "$(EMAIL)" ]; then \
		echo "usage: make admin USER=<name> EMAIL=<email>" >&2; exit 2; fi
	@$(PY) -m runner admin "$(USER)" "$(EMAIL)"

.PHONY: oidc-client
oidc-client: ## register a single sign-on client: make oidc-client NAME=<name> REDIRECT_URI=<uri> [PUBLIC=1] [FIRST_PARTY=1]; prints its secret once
	@if [ -z "$(NAME)" ] || [ -z "$(REDIRECT_URI)" ]; then \
		echo "usage: make oidc-client NAME=<name> REDIRECT_URI=<uri> [PUBLIC=1] [FIRST_PARTY=1]" >&2; exit 2; fi
	@$(PY) -m runner oidc-client "$(NAME)" "$(REDIRECT_URI)" $(if $(PUBLIC),--public) $(if $(FIRST_PARTY),--first-party)

.PHONY: mail
mail: ## print the latest mail the local mail sink received (TO=<address> filters, FORMAT=json)
	@$(PY) -m runner mail $(if $(TO),--to "$(TO)") $(if $(FORMAT),--format "$(FORMAT)")

.PHONY: rebuild-revocations
rebuild-revocations: ## rewrite the Redis revocation list from Postgres (auth_service also does it by itself)
	@$(PY) -m runner rebuild-revocations

.PHONY: settings-docs
settings-docs: ## rewrite docs/OPERATIONS.md's settings table and .env.example from the settings registry
	$(PYTHON) authcore/authcore/settings_registry.py write-docs .

.PHONY: lint
lint: venv ## ruff lint and format check, and the strict type check (mypy --strict)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: typecheck
typecheck: venv ## mypy --strict over authcore, auth_app and api_app (settings: pyproject.toml [tool.mypy])
	$(VENV)/bin/mypy

.PHONY: format
format: venv ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: unit
unit: venv ## the tests that need no running stack (starts nothing; a few seconds); `pytest` alone also skips the rest
	env -u BASE_URL -u DATABASE_URL -u REDIS_URL -u AUTHSTACK_STACK_RUN \
		$(VENV)/bin/pytest -q -p no:cacheprovider authcore/tests auth_service/tests api_service/tests deploy/tests \
		bench/tests

.PHONY: test
test: deps venv lint compose-lint rules-test deploy-lint ## lint (code, compose file, Dockerfiles, deploy/), alert rules, then unit and integration tests against a fresh throw-away stack
	PATH="/usr/sbin:$$PATH" $(PY) -m runner.suite $(PYTEST_ARGS)

-include mk/*.mk
