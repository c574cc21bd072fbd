# The image of both Python services, chosen by a build argument. The build
# context is the repository root, because the shared authcore package is
# installed too:
#   docker build --build-arg SERVICE=auth_service -t authstack/auth_service .
#   docker build --build-arg SERVICE=api_service  -t authstack/api_service .
# Classic builder and BuildKit alike (no BuildKit-only syntax).

# ---- build: wheels for every dependency, installed into a venv ----
FROM python:3.11-slim-bookworm AS build
# auth_service or api_service: the folder with the package, its pinned
# requirements and its gunicorn settings.
ARG SERVICE=auth_service
# Extra CA certificates (PEM text) for pip behind a TLS-inspecting proxy, e.g.
#   --build-arg EXTRA_CA_CERTS="$(cat corp-ca.pem)"
# Used in this stage only: the runtime image never sees it.
ARG EXTRA_CA_CERTS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_CERT=/tmp/ca-bundle.pem
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN cp /etc/ssl/certs/ca-certificates.crt /tmp/ca-bundle.pem \
    && if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >> /tmp/ca-bundle.pem; fi
WORKDIR /src
# Dependencies first: this layer is reused until requirements.txt changes.
COPY ${SERVICE}/requirements.txt service/requirements.txt
RUN pip wheel --wheel-dir /wheels -r service/requirements.txt
COPY authcore authcore
COPY ${SERVICE} service
RUN pip wheel --wheel-dir /wheels --no-deps ./authcore ./service \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels \
        -r service/requirements.txt authcore "${SERVICE//_/-}" \
    && /opt/venv/bin/pip uninstall -y pip setuptools \
    && cp service/gunicorn.conf.py /opt/gunicorn.conf.py

# ---- runtime: the venv and the gunicorn settings, no build tools ----
FROM python:3.11-slim-bookworm
# The health route the container's healthcheck asks: /auth/healthz checks
# Postgres and Redis, /api/healthz the revocation list in Redis.
ARG HEALTH_PATH=/auth/healthz
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    BIND=0.0.0.0:8000 \
    HEALTH_PATH=${HEALTH_PATH}
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /opt/gunicorn.conf.py ./
USER 10001:10001
EXPOSE 8000
# No curl in the slim image: Python's urllib, without any proxy from the environment.
HEALTHCHECK --interval=5s --timeout=4s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; port = os.environ.get('BIND', ':8000').rsplit(':', 1)[1]; u.build_opener(u.ProxyHandler({})).open(f'http://127.0.0.1:{port}' + os.environ['HEALTH_PATH'], timeout=3)"]
# Exec form: no shell in between, so gunicorn gets SIGTERM and shuts down
# gracefully (compose adds an init process as PID 1 with `init: true`).
# auth_service's schema migrations are a separate one-shot: python -m auth_app.migrate
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
