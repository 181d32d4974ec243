#!/usr/bin/env bash
# Quick start, command 1: set up and run Hechtwijzer locally on http://127.0.0.1:${PORT:-5000}
# Creates .venv, installs requirements, migrates the SQLite database in instance/,
# (re)creates the demo accounts with fresh passwords (printed), then serves with gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv requirements.txt

# Local runs are plain http on 127.0.0.1; production keeps Secure cookies (the default).
export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-0}"
export FLASK_APP=wsgi
port="${PORT:-5000}"
# The verification link printed on certificates comes from this setting only, never from a request.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${port}}"

.venv/bin/flask course check
.venv/bin/flask db upgrade
.venv/bin/flask course seed-demo
# Mail waits in the outbox until `flask course send-mail` writes it to instance/outbox/ as .eml
# files (README, "Mail"); links in mails use PUBLIC_BASE_URL.
# The mail sender beside the web server: mail appears in instance/outbox/ within seconds.
.venv/bin/flask course send-mail --loop --interval 5 &
sender_pid=$!
trap 'kill "$sender_pid" 2>/dev/null || true' EXIT
echo "Hechtwijzer draait op http://127.0.0.1:${port}  (stoppen: Ctrl+C); e-mail komt in instance/outbox/"
.venv/bin/gunicorn --workers 2 --bind "127.0.0.1:${port}" wsgi:app
