// Package testenv gives tests the stand-ins started by scripts/with-standins.sh (`make test`).
package testenv

import (
	"os"
	"testing"
)

// dynamoDBs are the DynamoDB implementations the tests run against: dynalite, and AWS's own
// DynamoDB Local (3.3.0), the reference where the two differ. What the session store and the
// --sessions-table scan use (conditional puts and updates, ADD, consistent reads, segmented and
// consistent scans, reserved words, ConditionalCheckFailedException) behaves alike. They differ:
//   - ResourceNotFoundException reads "Requested resource not found" in dynalite (as in AWS) and
//     "Cannot do operations on a non-existent table" in DynamoDB Local: match the code, never
//     the message.
//   - ReturnValuesOnConditionCheckFailure=ALL_OLD: DynamoDB Local returns the item with the
//     ConditionalCheckFailedException, dynalite ignores it (so the store reads the record after
//     a failed condition instead).
//   - UpdateTimeToLive and TransactWriteItems: DynamoDB Local accepts them (it does not delete
//     expired items), dynalite answers UnknownOperationException.
//   - CreateTable with PAY_PER_REQUEST and ProvisionedThroughput: dynalite refuses it as AWS
//     does, DynamoDB Local accepts it.
//   - DynamoDB Local keeps a database per access key and region unless started with -sharedDb
//     (scripts/with-standins.sh does: the tests' principals share one account); it refuses
//     access key ids with characters other than letters and digits (UnrecognizedClientException).
//   - DynamoDB Local takes 2 to 7 s to start here (dynalite well under 1 s), and its first calls
//     are slow while the JVM warms up.
var dynamoDBs = []struct{ name, env string }{
	{"dynalite", "SENTINEL_TEST_DYNAMODB_ENDPOINT"},
	{"dynamodb_local", "SENTINEL_TEST_DYNAMODB_LOCAL_ENDPOINT"},
}

// EachDynamoDB runs test as a subtest per DynamoDB implementation (named dynalite and
// dynamodb_local) with its endpoint. An implementation without an endpoint is skipped, unless
// SENTINEL_REQUIRE_STANDINS is set (as `make test` does), where it fails.
func EachDynamoDB(t *testing.T, test func(t *testing.T, endpoint string)) {
	t.Helper()
	for _, db := range dynamoDBs {
		t.Run(db.name, func(t *testing.T) {
			ep := os.Getenv(db.env)
			if ep == "" {
				if os.Getenv("SENTINEL_REQUIRE_STANDINS") != "" {
					t.Fatal(db.env + " is not set: run the tests with `make test` (scripts/with-standins.sh)")
				}
				t.Skip("no " + db.name + " stand-in: run with `make test` or scripts/with-standins.sh go test ./...")
			}
			test(t, ep)
		})
	}
}

// DebianAWSCLI is the AWS CLI of Debian's awscli package (/usr/bin/aws), the independent checker
// of the fixtures' digests. Other installations of `aws` (pip's, in a virtualenv) are not used:
// their versions vary, Debian's is the one pinned by the OS.
func DebianAWSCLI(t testing.TB) string {
	t.Helper()
	return debianTool(t, "/usr/bin/aws", "awscli", "SENTINEL_REQUIRE_AWSCLI", "to check the fixtures' digests with it")
}

// DebianChromium is the browser of Debian's chromium package (/usr/bin/chromium), in which the
// HTML report's tests render the page. Other Chrome or Chromium installations are not used: the
// one pinned by the OS is.
func DebianChromium(t testing.TB) string {
	t.Helper()
	return debianTool(t, "/usr/bin/chromium", "chromium", "SENTINEL_REQUIRE_CHROMIUM", "to render the HTML report in it")
}

// debianTool is the executable path of a Debian package that `make test` installs where apt can.
// Without it the test is skipped, unless the environment variable require is set (as .ci/run
// does), where it fails. These are not stand-ins scripts/with-standins.sh starts, so
// SENTINEL_REQUIRE_STANDINS does not require them: make test passes where apt cannot install them.
func debianTool(t testing.TB, path, pkg, require, what string) string {
	t.Helper()
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		if os.Getenv(require) != "" {
			t.Fatalf("%s is missing (%s is set): install Debian's %s (apt-get install %s; `make test` does where apt can)", path, require, pkg, pkg)
		}
		t.Skipf("%s is missing: install Debian's %s (apt-get install %s) %s", path, pkg, pkg, what)
	}
	return path
}
