# The `tests` compose service (profile "test"): the integration suite in tests/,
# run against nginx by service name. Build context: the repository root.

FROM python:3.11-slim-bookworm
ARG EXTRA_CA_CERTS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# oathtool computes TOTP codes for the second-factor tests (an implementation
# independent of the pyotp the stack uses); Debian's current package, like
# the stand-in images.
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends oathtool >/dev/null \
    && rm -rf /var/lib/apt/lists/*
COPY requirements-dev.txt ./
COPY auth_service/requirements.txt auth_service/requirements.txt
COPY api_service/requirements.txt api_service/requirements.txt
COPY mailsink/requirements.txt mailsink/requirements.txt
COPY authcore authcore
# The CA bundle is put together and removed in the same step, so no layer keeps it.
RUN cp /etc/ssl/certs/ca-certificates.crt /tmp/ca-bundle.pem \
    && if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >> /tmp/ca-bundle.pem; fi \
    && PIP_CERT=/tmp/ca-bundle.pem pip install -r requirements-dev.txt \
    && PIP_CERT=/tmp/ca-bundle.pem pip install --no-deps ./authcore \
    && rm /tmp/ca-bundle.pem
COPY pyproject.toml ./
COPY tests tests
RUN groupadd --system --gid 10002 tester \
    && useradd --system --uid 10002 --gid tester --create-home tester
USER 10002:10002
ENV BASE_URL=http://nginx:8080
# tests/faults and tests/privilege stop containers and run probes inside them:
# they need the Docker engine, so `make compose-test` runs them from the host
# (tests/compose/stack-control.sh); tests/browser needs chromium, which the
# host has: they run from there too.
# tests/keys starts its own EdDSA stack with the local runner (Node's jose
# verifies it there), so it skips here and the image needs no node.
# tests/observability starts its own Prometheus against the local stack; in
# compose, the `prometheus` service of the "observability" profile is checked instead.
CMD ["python", "-m", "pytest", "tests", "--ignore=tests/faults", "--ignore=tests/privilege", "--ignore=tests/browser", "--ignore=tests/observability", "--ignore=tests/scaling", "-p", "no:cacheprovider"]
