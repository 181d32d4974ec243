#!/usr/bin/env bash
# Security scan (also run by the system tests): Debian's wapiti against the app under gunicorn over
# https on 127.0.0.1, once logged out and once as a signed-in learner, on a fresh SQLite database.
# Installs wapiti and openssl when missing. Exits 1 when wapiti reports any vulnerability or anomaly
# (listed), or when a scan did not cover what it should. Reports: wapiti-*.json in the output folder.
#   scripts/security-scan.sh [--output DIR]     (default: a new folder under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_install wapiti openssl
ensure_venv requirements-dev.txt
unset TEST_DATABASE_URL
exec .venv/bin/python -m tests.system.security_scan "$@"
