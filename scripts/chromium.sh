#!/usr/bin/env bash
# Installs Debian's chromium when /usr/bin/chromium is missing (scripts/apt-install.sh), as make
# test does: the browser the HTML report's tests render the page in (reports, driven over the
# DevTools protocol by chromedp). Other Chrome or Chromium installations are not used.
[ -x /usr/bin/chromium ] || exec "$(dirname "$0")/apt-install.sh" chromium
