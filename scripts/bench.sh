#!/usr/bin/env bash
# Benchmarks (not part of the test suite): HTTP ratios under gunicorn, dashboard growth, PDF time.
# Installs wrk when missing. Results are printed; docs/benchmarks.md records a reference run.
# BENCH_DATABASE_URL=postgresql://... runs the HTTP and dashboard benchmarks on PostgreSQL.
#
# scripts/bench.sh at-size [bench.at_size options]: the pages at 1,000, 10,000 and 100,000 learners
# (issue 15), first on SQLite (a temporary file), then on a throwaway PostgreSQL server started here
# as scripts/test.sh starts one (port PG_BENCH_PORT, default 54339). Takes about an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export SESSION_COOKIE_SECURE=0

if [ "${1:-}" = "at-size" ]; then
  shift
  apt_install postgresql
  ensure_venv requirements-dev.txt
  status=0
  echo "== At size on SQLite =="
  (unset TEST_DATABASE_URL; .venv/bin/python -m bench.at_size "$@") || status=1
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  pg_dir="$(mktemp -d /tmp/hechtwijzer-bench-pg.XXXXXX)"
  pg_port="${PG_BENCH_PORT:-54339}"
  pg_user="$(id -un)"
  run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_dir"; pg_user=postgres; fi
  stop_pg() { run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
  trap stop_pg EXIT
  run_pg "$pg_bin/initdb" -D "$pg_dir/data" -U "$pg_user" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # Unlike the test server, fsync stays on: the bench measures a server as it would run. Autovacuum is
  # off: the seeder runs VACUUM ANALYZE itself, and a worker ending mid-measurement would be counted as
  # the page's database CPU (bench.at_size adds the CPU of backends that ended, for parallel workers).
  run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c autovacuum=off" start >/dev/null
  run_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" hechtwijzer_bench
  echo "== At size on PostgreSQL =="
  TEST_DATABASE_URL="postgresql+psycopg://${pg_user}@127.0.0.1:${pg_port}/hechtwijzer_bench" \
    .venv/bin/python -m bench.at_size "$@" || status=1
  exit $status
fi

apt_install wrk
ensure_venv requirements-dev.txt
if [ -n "${BENCH_DATABASE_URL:-}" ]; then export TEST_DATABASE_URL="$BENCH_DATABASE_URL"; fi
status=0
echo "== HTTP under gunicorn (2 sync workers) =="; .venv/bin/python -m bench.http_load "$@" || status=1
echo "== Trainer dashboard growth =="; .venv/bin/python -m bench.dashboard || status=1
echo "== Certificate PDF =="; .venv/bin/python -m bench.certificate_pdf || status=1
exit $status
