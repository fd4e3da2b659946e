package enforce

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

// Test identities: alice's base credentials, as the STS emulator knows them.
const (
	aliceKey   = "AKIAALICEEXAMPLE0001"
	aliceARN   = "arn:aws:iam::111122223333:user/alice"
	prodRole   = "arn:aws:iam::111122223333:role/prod-admin"
	testRegion = "eu-west-1"
)

// start is the fixed present of the tests.
var start = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// seeded is a deterministic random source.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

// startSTS runs the STS emulator on the test clock, with alice's key registered.
func startSTS(t *testing.T, c *clock) (*stsemu.Server, string) {
	t.Helper()
	emu := stsemu.New(stsemu.Options{Now: c.Now, AllowAnyRole: true, Rand: seeded(99), Region: testRegion})
	emu.SetCaller(aliceKey, aliceARN, "", "")
	endpoint, stop, err := emu.Start()
	if err != nil {
		t.Fatalf("start STS emulator: %v", err)
	}
	t.Cleanup(stop)
	return emu, endpoint
}

func awsConfig() aws.Config {
	return aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(aliceKey, "alice-secret", ""),
	}
}

func stsClient(endpoint string) *sts.Client {
	return sts.NewFromConfig(awsConfig(), func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// dynamoClient is a client of the DynamoDB stand-in at endpoint.
func dynamoClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// createTable creates a session table named after the test and waits until it is active.
func createTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("sessions-%s-%d", strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()), time.Now().UnixNano())
	if len(name) > 255 {
		name = name[len(name)-255:]
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String(name),
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return name
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not active after 10s (last error: %v)", name, err)
		}
	}
}

// testEnv is an Env on the test clock whose clients are the given ones.
func testEnv(c *clock, seed uint64, clients Clients) Env {
	return Env{
		Now:  c.Now,
		Rand: seeded(seed),
		Clients: func(context.Context, awsclient.Options) (Clients, error) {
			return clients, nil
		},
	}
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
