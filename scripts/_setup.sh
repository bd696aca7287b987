# Shared steps of scripts/dev and scripts/test (sourced, not run).

PYTHON="${PYTHON:-python3}"

setup_python() {  # $1: extras, e.g. "[dev]"
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "minsheng needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
  fi
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$1"
}

setup_assets() {  # htmx at the version pinned in package-lock.json, served from our origin
  if ! command -v npm >/dev/null; then
    echo "npm is needed to install htmx (apt-get install npm)" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund --loglevel=error
}

setup_chromium() {  # Debian's chromium (never a downloaded browser) and a Chinese font for it
  # Without a CJK font the pages render Chinese as empty boxes, so the 360 px layout checks and
  # screenshots would measure the wrong text widths.
  local want=""
  [ -x /usr/bin/chromium ] || want="chromium"
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || want="$want fonts-wqy-microhei"
  [ -n "$want" ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # shellcheck disable=SC2086
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null
  else
    echo "warning: missing$want; browser tests need them (apt-get install$want)" >&2
  fi
}

setup_postgresql_client() {  # pg_dump, pg_restore and psql: the backup tests run them
  if command -v pg_dump >/dev/null && command -v pg_restore >/dev/null \
      && command -v psql >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  else
    echo "warning: missing pg_dump, pg_restore or psql; the PostgreSQL backup tests need" \
         "them (apt-get install postgresql-client)" >&2
  fi
}

setup_postgresql() {  # the local server the PostgreSQL tests use (127.0.0.1:5432)
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
      for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    fi
  fi
}
