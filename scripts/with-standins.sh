#!/usr/bin/env bash
# Runs a command with the AWS stand-ins the tests need, then stops them:
#   DynamoDB: dynalite (version pinned in scripts/standins/package-lock.json) on a free loopback port,
#             exported as SENTINEL_TEST_DYNAMODB_ENDPOINT.
# S3, CloudTrail and STS stand-ins run inside the Go tests themselves; the AWS CLI (Debian's awscli,
# installed by make test) checks the fixtures against them.
# It also installs the engines' SQL grammars the ddl tests parse with (scripts/sqlcheck, versions
# pinned in its package-lock.json).
# SENTINEL_REQUIRE_STANDINS=1 makes tests that need a stand-in fail (not skip) when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
standins="$here/standins"

install() { # DIR FILE: npm ci in DIR unless its node_modules has FILE
  if [ ! -e "$here/$1/node_modules/$2" ]; then
    echo "installing test stand-ins (npm ci in scripts/$1)" >&2
    (cd "$here/$1" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}
install standins .bin/dynalite
install sqlcheck dt-sql-parser/package.json

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
log="$(mktemp)"
node "$standins/node_modules/.bin/dynalite" --host 127.0.0.1 --port "$port" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$log" 2>&1 &
dynalite=$!
cleanup() { kill "$dynalite" 2>/dev/null || true; wait "$dynalite" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  if grep -q "listening" "$log"; then break; fi
  if ! kill -0 "$dynalite" 2>/dev/null; then echo "dynalite failed to start:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done
grep -q "listening" "$log" || { echo "dynalite did not start within 10s" >&2; cat "$log" >&2; exit 1; }

export SENTINEL_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export SENTINEL_REQUIRE_STANDINS=1
echo "dynalite on $SENTINEL_TEST_DYNAMODB_ENDPOINT" >&2
"$@"
