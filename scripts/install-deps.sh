#!/usr/bin/env bash
# Installs the Debian 12 packages pgqpp needs to build and test.
# Quiet and quick when everything is already there (it runs on every scripts/test.sh).
set -euo pipefail

packages=(
    build-essential g++ cmake pkg-config python3
    libpqxx-dev libboost-dev libboost-program-options-dev libspdlog-dev
    libgtest-dev nlohmann-json3-dev
    postgresql-15 postgresql-client-15 postgresql-15-pgq3 pgqd
    python3-pgq python3-psycopg2
)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
    sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
