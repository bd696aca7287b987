# syntax=docker/dockerfile:1
#
# minsheng — production image.
#
#   docker build -t minsheng .
#   docker run -e MINSHENG_SECRET_KEY=... -e MINSHENG_RATE_LIMIT_URL=redis://... \
#              -e MINSHENG_DATABASE_URL=postgresql://user:pass@host:5432/minsheng -p 8000:8000 minsheng
#
# See compose.yaml for a complete stack (PostgreSQL + Redis + app).

ARG NODE_IMAGE=node:20-slim
ARG PYTHON_IMAGE=python:3.11-slim

# --- front-end assets at the versions pinned in package-lock.json (served by us, no CDN) ----
# --ignore-scripts: nothing needs building, and it skips install-time scripts (scarf's telemetry).
FROM ${NODE_IMAGE} AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && test -s node_modules/htmx.org/dist/htmx.min.js

# --- the application --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# app.config.ROOT is the parent of the `app` package and must hold templates/, migrations/,
# alembic.ini and node_modules/: the source tree is kept here and installed in editable mode,
# so `app` is imported from /srv/minsheng/app (a plain install into site-packages would not
# find them).
WORKDIR /srv/minsheng

# Dependencies first, in their own layer, so that code changes don't reinstall them. They are
# read from pyproject.toml; all have wheels for linux x86_64/aarch64 (no compiler needed).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The source tree (filtered by .dockerignore), then the project itself (which adds the
# `minsheng` command) without touching the dependencies installed above.
COPY . .
# All of node_modules (htmx, Swagger UI...: ~13 MB, no native code), where app.config expects it.
COPY --from=assets /build/node_modules node_modules
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/minsheng-entrypoint

# Then: fail the build now, not at run time, if the layout app.config.ROOT relies on is
# incomplete (the .po catalogs are compiled by the app itself at run time); add the user.
# The code stays root-owned and read-only to the app: only var/ (where the SQLite file goes
# when MINSHENG_DATABASE_URL is not set) is writable by it.
RUN set -eu; \
    pip install --no-cache-dir --no-deps -e .; \
    minsheng --help > /dev/null; \
    python -P -c "from app.config import ROOT; \
assert str(ROOT) == '/srv/minsheng', ROOT; \
missing = [p for p in ('alembic.ini', 'migrations/env.py', 'templates/base.html', 'app/static', \
'node_modules/htmx.org/dist/htmx.min.js') if not (ROOT / p).exists()]; \
assert not missing, missing"; \
    groupadd --system --gid 10001 minsheng; \
    useradd --system --uid 10001 --gid 10001 --home-dir /srv/minsheng/var \
        --no-create-home --shell /usr/sbin/nologin minsheng; \
    install -d -o minsheng -g minsheng -m 0750 /srv/minsheng/var

ENV MINSHENG_ENV=production \
    MINSHENG_ASSETS_DIR=/srv/minsheng/node_modules \
    MINSHENG_MIGRATE_ON_START=1 \
    MINSHENG_WORKERS=2 \
    MINSHENG_FORWARDED_ALLOW_IPS=127.0.0.1

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["minsheng-entrypoint"]
# `sh -c` only to expand the variables; `exec` leaves uvicorn as PID 1 to receive SIGTERM.
CMD ["sh", "-c", "exec minsheng serve --host 0.0.0.0 --port 8000 --workers \"${MINSHENG_WORKERS:-2}\" --forwarded-allow-ips \"${MINSHENG_FORWARDED_ALLOW_IPS:-127.0.0.1}\""]
