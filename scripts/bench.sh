#!/usr/bin/env bash
# Benchmarks (not part of the test suite): HTTP ratios under gunicorn, dashboard growth, PDF time.
# Installs wrk when missing. Results are printed; docs/benchmarks.md records a reference run.
# BENCH_DATABASE_URL=postgresql://... runs the HTTP and dashboard benchmarks on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_install wrk
ensure_venv requirements-dev.txt
export SESSION_COOKIE_SECURE=0
if [ -n "${BENCH_DATABASE_URL:-}" ]; then export TEST_DATABASE_URL="$BENCH_DATABASE_URL"; fi
status=0
echo "== HTTP under gunicorn (2 sync workers) =="; .venv/bin/python -m bench.http_load "$@" || status=1
echo "== Trainer dashboard growth =="; .venv/bin/python -m bench.dashboard || status=1
echo "== Certificate PDF =="; .venv/bin/python -m bench.certificate_pdf || status=1
exit $status
