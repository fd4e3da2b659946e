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
