#!/usr/bin/env bash
# Quick start, command 2: install everything the tests need and run the whole suite,
# first on SQLite, then on a throwaway PostgreSQL server started here.
#   Debian: postgresql, chromium (browser tests, driven by Playwright; no browser download),
#           wapiti and openssl (security scan, tests/system/test_security_scan.py), sqlite3 (the
#           backup and restore test, tests/test_backup_restore.py),
#           default-jre-headless (runs the Nu Html Checker, tests/test_html_valid.py)
#   npm:    axe-core (accessibility checks injected into pages), oidc-provider (the OpenID Connect
#           provider the sign-in tests log in through, run by node from the Debian package nodejs),
#           vnu-jar (the Nu Html Checker)
#   PyPI:   requirements-dev.txt
# Extra arguments go to pytest, e.g. scripts/test.sh -k lessons
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install postgresql chromium fonts-dejavu-core wapiti openssl nodejs sqlite3
command -v java >/dev/null || apt_install default-jre-headless
ensure_venv requirements-dev.txt
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/oidc-provider/package.json ] \
  || [ ! -f node_modules/vnu-jar/build/dist/vnu.jar ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  # --ignore-scripts: vnu-jar's postinstall would download a Java from GitHub; Debian's Java (above) runs it.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export SESSION_COOKIE_SECURE=0

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "==> flask course check"
HECHTWIJZER_INSTANCE="$(mktemp -d)" .venv/bin/flask --app wsgi course check

echo "==> pytest on SQLite"
unset TEST_DATABASE_URL
if [ "$#" -eq 0 ]; then
  # The whole suite: with branch coverage, failing under [tool.coverage.report] fail_under (pyproject.toml).
  .venv/bin/python -m pytest --cov --cov-branch --cov-report=term
else
  # A selection (scripts/test.sh -k auth) measures too little for the coverage gate.
  .venv/bin/python -m pytest "$@"
fi

echo "==> pytest on PostgreSQL"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_dir="$(mktemp -d /tmp/hechtwijzer-pg.XXXXXX)"
pg_port="${PG_TEST_PORT:-54329}"
pg_user="$(id -un)"
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_dir"; pg_user=postgres; fi
stop_pg() { run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
trap stop_pg EXIT
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -U "$pg_user" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
run_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" hechtwijzer_test
export TEST_DATABASE_URL="postgresql+psycopg://${pg_user}@127.0.0.1:${pg_port}/hechtwijzer_test"
# For the restart fault test (tests/system/test_faults.py).
export PG_BIN="$pg_bin" PG_DATA="$pg_dir/data"
if [ "$(id -u)" -eq 0 ]; then export PG_RUN_AS=postgres; fi
.venv/bin/python -m pytest "$@"
