#!/usr/bin/env bash
# Installs Debian's chromium when /usr/bin/chromium is missing (apt, as root or through sudo), as
# make test does: the browser the HTML report's tests render the page in (reports, driven over the
# DevTools protocol by chromedp). Other Chrome or Chromium installations are not used.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
echo "installing chromium (apt)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q chromium >/dev/null 2>&1 ||
  { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q chromium >/dev/null 2>&1; } ||
  { echo "could not install chromium: apt-get install chromium" >&2; exit 1; }
