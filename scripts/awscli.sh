#!/usr/bin/env bash
# Installs Debian's awscli when /usr/bin/aws is missing (scripts/apt-install.sh), as make test
# does: the independent checker of the fixtures' digests (`aws cloudtrail validate-logs`, see
# internal/emulator/cloudtrail/validatelogs_test.go). Other installations of `aws` are not used.
# Exits 1 when it is missing and apt cannot install it.
[ -x /usr/bin/aws ] || exec "$(dirname "$0")/apt-install.sh" awscli
