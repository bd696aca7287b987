# syntax=docker/dockerfile:1
#
# minsheng — production image.
#
#   docker build -t minsheng .
#   docker run -e MINSHENG_SECRET_KEY=... -e MINSHENG_BALLOT_KEY=... -e MINSHENG_RATE_LIMIT_URL=redis://... \
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

# --- the wheel: the package with templates, migrations, alembic.ini and the assets inside -----
# setup.py's build step copies them into the package and stops if node_modules is missing or
# holds other versions than package-lock.json pins (docs/packaging.md).
FROM ${PYTHON_IMAGE} AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /build
# The source tree (filtered by .dockerignore, which leaves node_modules out), then the assets.
COPY . .
COPY --from=assets /build/node_modules node_modules
RUN pip wheel --no-deps --wheel-dir /dist .

# --- the application --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The working directory holds only var/: an installed package keeps its SQLite file (when
# MINSHENG_DATABASE_URL is not set) and the photos in var/ of the folder it runs in.
WORKDIR /srv/minsheng

# pg_dump, pg_restore and psql for `minsheng backup` / `minsheng restore` on PostgreSQL
# (docs/operations.md#backups). They must be the server's major version or newer: Debian's
# current client is; restoring drops the one setting newer clients write that older servers
# refuse (app/backup/postgres.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer, so that code changes don't reinstall them. They are
# read from pyproject.toml; all have wheels for linux x86_64/aarch64 (no compiler needed).
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt /tmp/pyproject.toml

COPY --from=wheel /dist /tmp/dist
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/minsheng-entrypoint

# Then: the project from its wheel into site-packages (adding the `minsheng` command), without
# touching the dependencies installed above; fail the build now, not at run time, if the
# installed package lacks what it reads at run time; add the user. The code stays root-owned
# and read-only to the app: only var/ is writable by it.
RUN set -eu; \
    pip install --no-cache-dir --no-deps /tmp/dist/minsheng-*.whl; \
    rm -r /tmp/dist; \
    minsheng --help > /dev/null; \
    python -P -c "import app.resources as r; \
assert r.SOURCE_TREE is None, r.SOURCE_TREE; \
r.check_vendor_files(r.vendor_files()); \
missing = [str(p) for p in (r.alembic_ini(), r.migrations_dir() / 'env.py', \
r.templates_dir() / 'base.html', r.PACKAGE / 'static' / 'app.css') if not p.exists()]; \
assert not missing, missing"; \
    groupadd --system --gid 10001 minsheng; \
    useradd --system --uid 10001 --gid 10001 --home-dir /srv/minsheng/var \
        --no-create-home --shell /usr/sbin/nologin minsheng; \
    install -d -o minsheng -g minsheng -m 0750 /srv/minsheng/var

ENV MINSHENG_ENV=production \
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
