#!/usr/bin/env bash
# Installs Debian's awscli when /usr/bin/aws is missing (apt, as root or through sudo), as make test
# does: the independent checker of the fixtures' digests (`aws cloudtrail validate-logs`, see
# internal/emulator/cloudtrail/validatelogs_test.go). Other installations of `aws` are not used.
# Exits 1 when it is missing and apt cannot install it (no apt, not root and no sudo without a
# password, no network).
set -uo pipefail
[ -x /usr/bin/aws ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
echo "installing awscli (apt)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q awscli >/dev/null 2>&1 ||
  { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q awscli >/dev/null 2>&1; } ||
  { echo "could not install awscli (apt-get install awscli)" >&2; exit 1; }
