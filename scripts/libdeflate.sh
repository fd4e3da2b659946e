#!/usr/bin/env bash
# Prints the Go build tag for libdeflate when its C header and library are installed (Debian's
# libdeflate-dev), else nothing: the build then inflates gzip with klauspost/compress instead.
#   scripts/libdeflate.sh --install   installs libdeflate-dev first when it is missing
#                                     (scripts/apt-install.sh), as make test and make bench do;
#                                     when apt cannot, it prints nothing (the pure-Go build).
set -uo pipefail
have() { printf '#include <libdeflate.h>\nint main(void){return 0;}\n' | ${CC:-gcc} -x c - -o /dev/null -l:libdeflate.a >/dev/null 2>&1; }
if ! have && [ "${1:-}" = "--install" ]; then
  "$(dirname "$0")/apt-install.sh" libdeflate-dev
fi
if have; then echo libdeflate; fi
