// Package testenv gives tests the stand-ins started by scripts/with-standins.sh (`make test`).
package testenv

import (
	"os"
	"testing"
)

// DynamoDBEndpoint is the dynalite endpoint for this test run. Without one the test is skipped,
// unless SENTINEL_REQUIRE_STANDINS is set (as `make test` does), where it fails.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("SENTINEL_TEST_DYNAMODB_ENDPOINT")
	if ep == "" {
		if os.Getenv("SENTINEL_REQUIRE_STANDINS") != "" {
			t.Fatal("SENTINEL_TEST_DYNAMODB_ENDPOINT is not set: run the tests with `make test` (scripts/with-standins.sh)")
		}
		t.Skip("no DynamoDB stand-in: run with `make test` or scripts/with-standins.sh go test ./...")
	}
	return ep
}

// DebianAWSCLI is the AWS CLI of Debian's awscli package (/usr/bin/aws), the independent checker
// of the fixtures' digests (`make test` installs it). Without it the test is skipped, unless
// SENTINEL_REQUIRE_STANDINS is set, where it fails. Other installations of `aws` (pip's, in a
// virtualenv) are not used: their versions vary, Debian's is the one pinned by the OS.
func DebianAWSCLI(t testing.TB) string {
	t.Helper()
	const aws = "/usr/bin/aws"
	if _, err := os.Stat(aws); err != nil {
		if os.Getenv("SENTINEL_REQUIRE_STANDINS") != "" {
			t.Fatalf("%s is missing: install Debian's awscli (apt-get install awscli; `make test` does)", aws)
		}
		t.Skipf("%s is missing: install Debian's awscli (apt-get install awscli) or run `make test`", aws)
	}
	return aws
}
