# Deployment files beyond one machine: the Swarm stack (deploy/swarm) and the
# Kubernetes manifests (deploy/k8s). Static checks in `make test` (no daemon,
# no cluster), and `make swarm-test`, which runs the stack on a one-node swarm.
# Included by the Makefile (`-include mk/*.mk`).

# Kubernetes versions the rendered manifests are validated against: the
# newest kubernetes-validate bundles, and an older one still in support.
K8S_VERSIONS := 1.33.0 1.37.0
DEPLOY_STAMP := $(VENV)/.deploy-tools
COMPOSE_FILES := docker-compose.yml docker-compose.eddsa.yml docker-compose.oidc.yml deploy/swarm/stack.yml deploy/swarm/eddsa.yml

$(DEPLOY_STAMP): requirements-deploy.txt $(STAMP)
	$(VENV)/bin/pip install -q -r requirements-deploy.txt
	touch $@

.PHONY: deploy-lint
deploy-lint: $(DEPLOY_STAMP) ## validate the compose files against the Compose Specification schema, check the nginx image's upstream choice, render and validate deploy/k8s
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec $(COMPOSE_FILES)
	bash tests/compose/upstreams-envsh-test.sh
	@# Swarm's own reading of the stack file (the docker CLI, no daemon needed).
	@if command -v docker >/dev/null; then \
		DOCKER_HOST=unix:///nonexistent/docker.sock docker stack config -c deploy/swarm/stack.yml >/dev/null && \
		DOCKER_HOST=unix:///nonexistent/docker.sock docker stack config -c deploy/swarm/stack.yml -c deploy/swarm/eddsa.yml >/dev/null && \
		echo "deploy/swarm/stack.yml (+ eddsa.yml): docker stack config accepts it"; \
	else echo "docker CLI not installed: docker stack config not run (make compose-test installs docker.io)"; fi
	@# The dev overlay's Secret comes from six uncommitted files: render it with
	@# throw-away ones, in a copy, so nothing is written into the work tree.
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp -r deploy/k8s "$$tmp/" && \
	python3 -c 'import secrets; print(secrets.token_urlsafe(48), end="")' >"$$tmp/k8s/overlays/dev/secrets/jwt_secret" && \
	python3 -c 'import secrets; print(secrets.token_urlsafe(32), end="")' >"$$tmp/k8s/overlays/dev/secrets/mfa_key" && \
	for name in postgres_password postgres_migration_password redis_auth_password redis_api_password; do \
		python3 -c 'import secrets; print(secrets.token_urlsafe(24), end="")' >"$$tmp/k8s/overlays/dev/secrets/$$name"; \
	done && \
	$(VENV)/bin/kubectl kustomize "$$tmp/k8s/base" >"$$tmp/base.yaml" && \
	$(VENV)/bin/kubectl kustomize "$$tmp/k8s/overlays/dev" >"$$tmp/dev.yaml" && \
	mkdir "$$tmp/k8s/overlays/eddsa" && \
	printf 'resources:\n  - ../dev\ncomponents:\n  - ../../components/eddsa\n' >"$$tmp/k8s/overlays/eddsa/kustomization.yaml" && \
	$(VENV)/bin/kubectl kustomize "$$tmp/k8s/overlays/eddsa" >"$$tmp/eddsa.yaml" && \
	for version in $(K8S_VERSIONS); do \
		$(VENV)/bin/kubernetes-validate --strict --quiet -k "$$version" "$$tmp/base.yaml" "$$tmp/dev.yaml" "$$tmp/eddsa.yaml" || exit 1; \
		echo "deploy/k8s (base, overlays/dev, dev + components/eddsa): $$(grep -c '^kind:' "$$tmp/dev.yaml") resources valid for Kubernetes $$version (strict)"; \
	done

.PHONY: swarm-test
swarm-test: venv ## deploy deploy/swarm/stack.yml on a one-node swarm; suite, scaling, rolling update, rollback, task replacement; leave no trace
	bash tests/swarm/swarm-test.sh
