#!/usr/bin/env bash
# Installs a Debian package with apt, as root or through sudo without a password, refreshing the
# package lists once if the first try fails, as make test does for what its tests need.
#   scripts/apt-install.sh PACKAGE
# Exits 1, saying so, when apt cannot (no apt, not root and no sudo without a password, no network).
set -uo pipefail
pkg=$1
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
echo "installing $pkg (apt)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q "$pkg" >/dev/null 2>&1 ||
  { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "$pkg" >/dev/null 2>&1; } ||
  { echo "could not install $pkg (apt-get install $pkg)" >&2; exit 1; }
