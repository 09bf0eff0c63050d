#!/usr/bin/env bash
# Installs the Debian 12 packages mlagw needs to build, test and run its demo.
# Idempotent: when everything is present it only checks, quietly, and returns in well under a second.
set -euo pipefail

PACKAGES=(
  meson ninja-build pkg-config gcc
  libssl-dev openssl
  libxml2-dev libxml2-utils
  libxmlsec1-dev libxmlsec1-openssl xmlsec1
  libcurl4-openssl-dev libevent-dev libsqlite3-dev sqlite3
  zlib1g-dev libcmocka-dev libjansson-dev
  python3 gzip sqlite3 clang libclang-rt-14-dev
  faketime
  libseccomp-dev
  softhsm2 libengine-pkcs11-openssl opensc libp11-kit-dev
  scdoc systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run this script as root (apt-get install)" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
