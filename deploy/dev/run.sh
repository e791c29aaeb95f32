#!/usr/bin/env bash
# Serve the portal with its Celery worker and beat scheduler until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .run/broker
py=.venv/bin/python
.venv/bin/celery -A portal worker --beat --loglevel INFO \
  --schedule .run/celerybeat-schedule --pidfile= --concurrency 2 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "Portal on http://127.0.0.1:${PORT:-8000}/ (Ctrl-C stops it)"
$py manage.py runserver "127.0.0.1:${PORT:-8000}"
