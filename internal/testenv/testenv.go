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
// of the fixtures' digests (`make test` installs it where apt can). Without it the test is
// skipped, unless SENTINEL_REQUIRE_AWSCLI is set, where it fails. It is not one of the stand-ins
// scripts/with-standins.sh starts, so SENTINEL_REQUIRE_STANDINS (which that script sets) does not
// require it: make test passes where apt cannot install it. Other installations of `aws` (pip's,
// in a virtualenv) are not used: their versions vary, Debian's is the one pinned by the OS.
func DebianAWSCLI(t testing.TB) string {
	t.Helper()
	const aws = "/usr/bin/aws"
	if info, err := os.Stat(aws); err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		if os.Getenv("SENTINEL_REQUIRE_AWSCLI") != "" {
			t.Fatalf("%s is missing: install Debian's awscli (apt-get install awscli; `make test` does where apt can)", aws)
		}
		t.Skipf("%s is missing: install Debian's awscli (apt-get install awscli) to check the fixtures' digests with it", aws)
	}
	return aws
}

// DebianChromium is the browser of Debian's chromium package (/usr/bin/chromium), in which the
// HTML report's tests render the page (`make test` installs it). Without it the test is skipped,
// unless SENTINEL_REQUIRE_STANDINS is set, where it fails. Other Chrome or Chromium installations
// are not used: the one pinned by the OS is.
func DebianChromium(t testing.TB) string {
	t.Helper()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("SENTINEL_REQUIRE_STANDINS") != "" {
			t.Fatalf("%s is missing: install Debian's chromium (apt-get install chromium; `make test` does)", chromium)
		}
		t.Skipf("%s is missing: install Debian's chromium (apt-get install chromium) or run `make test`", chromium)
	}
	return chromium
}
