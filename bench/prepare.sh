#!/usr/bin/env bash
# What `make bench` needs besides the portal's own requirements: Kamailio for the sync, wrk
# for the load, and the profiler (bench/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(kamailio kamailio-postgres-modules wrk)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "The benchmarks need Debian's ${missing[*]}: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
.venv/bin/pip install --quiet -r bench/requirements.txt
