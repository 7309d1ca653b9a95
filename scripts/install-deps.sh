#!/usr/bin/env bash
# Installs attnsim's build and test dependencies from Debian 12 packages. Idempotent: installs only
# what is missing, and runs apt-get update only when it has something to install. Extra package
# names given as arguments are installed too (scripts/sanitize.sh adds clang and its sanitizer
# runtime).
set -euo pipefail

packages=(cmake g++ make libcli11-dev libfmt-dev nlohmann-json3-dev libeigen3-dev catch2
          libbenchmark-dev "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
