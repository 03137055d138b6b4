#!/usr/bin/env bash
# Installs the Debian packages Switchyard needs to build, run and test.
# Idempotent: only missing packages are installed. Runs as root or through sudo.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  prometheus-cpp-dev libsqlite3-dev libpq-dev libhiredis-dev
  libgtest-dev libgmock-dev
  nodejs
  redis-server redis-tools postgresql postgresql-client  # tests call redis-cli and psql
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting system services (redis, postgres): tests start their own.
policy_created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_created=1
fi
trap '[ $policy_created -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
timeout 600 $SUDO apt-get update -qq || true
timeout 1200 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
