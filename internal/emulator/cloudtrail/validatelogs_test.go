package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	emulator "github.com/sentinel-audit/sentinel/internal/emulator/cloudtrail"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
	"github.com/sentinel-audit/sentinel/internal/testenv"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// The fixtures' organization trail (testdata/fixtures/README.md).
const (
	fixtureOrg     = "o-a1b2c3d4e5"
	fixtureBucket  = "acme-org-cloudtrail"
	fixtureTrail   = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"
	fixtureFrom    = "2026-11-01T00:00:00Z"
	fixtureTo      = "2026-11-08T00:00:00Z"
	fixtureDigests = 168 // per account and region: hourly over the window
)

var (
	fixtureAccounts = []string{"111111111111", "222222222222", "033333333333", "444444444444"}
	fixtureRegions  = []string{"us-east-1", "eu-west-1"}
)

// sitecustomize points the S3 and Organizations clients of the AWS CLI at the stand-ins. Debian's
// awscli 2.9.19 predates AWS_ENDPOINT_URL_*: its --endpoint-url reaches only the command's own
// service (CloudTrail here), while validate-logs makes its S3 clients (one per bucket region) and
// its Organizations client itself. Python imports sitecustomize from PYTHONPATH at startup; the
// CLI vendors botocore as awscli.botocore, importable as botocore once awscli is imported.
const sitecustomize = `import os
import awscli
import botocore.config
import botocore.session

_create_client = botocore.session.Session.create_client


def _standin_client(self, service_name, *args, **kwargs):
    endpoint = os.environ.get("SENTINEL_STANDIN_" + service_name.upper())
    if endpoint:
        kwargs["endpoint_url"] = endpoint
        if service_name == "s3":
            path_style = botocore.config.Config(s3={"addressing_style": "path"})
            config = kwargs.get("config")
            kwargs["config"] = config.merge(path_style) if config else path_style
    return _create_client(self, service_name, *args, **kwargs)


botocore.session.Session.create_client = _standin_client
`

// TestValidateLogsAcceptsTheFixtureDigests runs the AWS CLI's own checker, `aws cloudtrail
// validate-logs` (Debian's awscli), over the fixture trail served by the stand-ins: the S3
// stand-in holds the trail with each digest's signature as x-amz-meta-signature (from
// testdata/fixtures/digest-signatures.json), the CloudTrail emulator serves the test key
// (ListPublicKeys), the trail (DescribeTrails) and the organization (DescribeOrganization).
//
// What the CLI needed: Debian's /usr/bin/aws runs /usr/bin/python3 with the CLI in
// /usr/lib/python3/dist-packages/awscli (botocore vendored in awscli/botocore); a sitecustomize.py
// on PYTHONPATH (in a temporary folder, see sitecustomize above) sends its S3 and Organizations
// clients to the stand-ins; a temporary HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE
// with dummy credentials keep the developer's own AWS configuration out; --endpoint-url sends
// CloudTrail to the emulator; --region names the source region whose digests are checked, and
// --account-id the member account (required for an organization trail).
func TestValidateLogsAcceptsTheFixtureDigests(t *testing.T) {
	aws := testenv.DebianAWSCLI(t)
	trail := filepath.Join(repoRoot(t), "testdata", "fixtures", "trail")
	store, s3Endpoint := fixtureStore(t, trail)
	ct := emulator.New(emulator.Options{
		RequestsPerSecond: -1,
		PublicKeys:        []emulator.PublicKey{key(testkeys.Primary, testkeys.Primary.ValidityStart, testkeys.Primary.ValidityEnd)},
		Trails:            []emulator.Trail{orgTrail},
		OrganizationID:    fixtureOrg,
	})
	ctEndpoint, stop, err := ct.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	env := cliEnv(t, s3Endpoint, ctEndpoint)
	validate := func(t *testing.T, account, region string) (stdout, stderr string, exit int) {
		t.Helper()
		cmd := exec.Command(aws, "cloudtrail", "validate-logs", "--trail-arn", fixtureTrail, "--start-time", fixtureFrom, "--end-time", fixtureTo,
			"--account-id", account, "--region", region, "--endpoint-url", ctEndpoint, "--verbose")
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			exit = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run %s: %v", aws, err)
		}
		return out.String(), errOut.String(), exit
	}

	total := 0
	for _, account := range fixtureAccounts {
		for _, region := range fixtureRegions {
			total += len(logFilesOf(t, trail, account, region))
		}
	}
	if total != 17 {
		t.Errorf("%d log files in the fixture trail, the README says 17", total)
	}
	for _, account := range fixtureAccounts {
		for _, region := range fixtureRegions {
			t.Run(account+"_"+region+"_every_digest_and_log_file_is_valid", func(t *testing.T) {
				logs := logFilesOf(t, trail, account, region)
				stdout, stderr, exit := validate(t, account, region)
				want := fmt.Sprintf("%d/%d digest files valid", fixtureDigests, fixtureDigests)
				if len(logs) > 0 {
					want += fmt.Sprintf("\n%d/%d log files valid", len(logs), len(logs))
				}
				if exit != 0 || !strings.Contains(stdout, "Results requested for "+fixtureFrom+" to "+fixtureTo+"\n") || !strings.Contains(stdout, ":\n\n"+want+"\n") || strings.Contains(stdout, "INVALID") {
					t.Errorf("validate-logs exit %d, want 0 and %q\nstdout:\n%s\nstderr:\n%s", exit, want, tail(stdout), stderr)
				}
				for _, key := range logs {
					if !strings.Contains(stdout, "Log file\ts3://"+fixtureBucket+"/"+key+"\tvalid\n") {
						t.Errorf("validate-logs did not check %s", key)
					}
				}
			})
		}
	}
	t.Run("deleted_and_rewritten_log_files_are_invalid", func(t *testing.T) {
		const account, region = "222222222222", "us-east-1"
		logs := logFilesOf(t, trail, account, region)
		deleted, rewritten := logs[0], logs[len(logs)-1]
		if err := store.Delete(fixtureBucket, deleted); err != nil {
			t.Fatal(err)
		}
		if err := store.Put(fixtureBucket, rewritten, gzipped(t, `{"Records":[]}`)); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, exit := validate(t, account, region)
		n := len(logs)
		want := fmt.Sprintf("%d/%d digest files valid\n%d/%d log files valid, 2/%d log files INVALID", fixtureDigests, fixtureDigests, n-2, n, n)
		if exit != 1 || !strings.Contains(stdout, want) {
			t.Errorf("validate-logs exit %d, want 1 and %q\nstdout:\n%s", exit, want, tail(stdout))
		}
		for _, w := range []string{
			"Log file\ts3://" + fixtureBucket + "/" + deleted + "\tINVALID: not found",
			"Log file\ts3://" + fixtureBucket + "/" + rewritten + "\tINVALID: hash value doesn't match",
		} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
	})
}

// fixtureStore starts the S3 stand-in with the fixture trail: digests with their signature
// metadata from the manifest, everything else as it is.
func fixtureStore(t *testing.T, trail string) (*objectstore.Server, string) {
	t.Helper()
	var manifest struct {
		Bucket             string            `json:"bucket"`
		SignatureAlgorithm string            `json:"signatureAlgorithm"`
		Signatures         map[string]string `json:"signatures"`
	}
	data, err := os.ReadFile(filepath.Join(trail, "..", "digest-signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatalf("digest-signatures.json: %v", err)
	}
	store := objectstore.New()
	if err := store.CreateBucket(manifest.Bucket); err != nil {
		t.Fatal(err)
	}
	digests := 0
	err = filepath.WalkDir(trail, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(trail, path)
		key := filepath.ToSlash(rel)
		if !strings.Contains(key, "/CloudTrail-Digest/") {
			return store.Put(manifest.Bucket, key, body)
		}
		sig, ok := manifest.Signatures[key]
		if !ok {
			return fmt.Errorf("digest-signatures.json has no signature for %s", key)
		}
		digests++
		return store.PutWithMetadata(manifest.Bucket, key, body, map[string]string{"signature": sig, "signature-algorithm": manifest.SignatureAlgorithm})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(fixtureAccounts) * len(fixtureRegions) * fixtureDigests; digests != want || len(manifest.Signatures) != want {
		t.Fatalf("%d digest files and %d signatures, want %d", digests, len(manifest.Signatures), want)
	}
	endpoint, stop, err := store.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return store, endpoint
}

// cliEnv is the AWS CLI's environment: nothing of the developer's AWS configuration, dummy
// credentials, and the stand-ins' endpoints for sitecustomize.
func cliEnv(t *testing.T, s3Endpoint, ctEndpoint string) []string {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	site := filepath.Join(dir, "site")
	for _, d := range []string{home, site} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(home, "config")
	credentials := filepath.Join(home, "credentials")
	files := map[string]string{
		filepath.Join(site, "sitecustomize.py"): sitecustomize,
		config:                                  "[default]\nregion = us-east-1\noutput = json\n",
		credentials:                             "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + home,
		"LANG=C.UTF-8",
		"AWS_CONFIG_FILE=" + config,
		"AWS_SHARED_CREDENTIALS_FILE=" + credentials,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"PYTHONPATH=" + site,
		"SENTINEL_STANDIN_S3=" + s3Endpoint,
		"SENTINEL_STANDIN_ORGANIZATIONS=" + ctEndpoint,
	}
}

var logFileKey = regexp.MustCompile(`^AWSLogs/` + fixtureOrg + `/(\d{12})/CloudTrail/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/[^/]+\.json\.gz$`)

// logFilesOf lists the fixture trail's log files of an account and region, in key order.
func logFilesOf(t *testing.T, trail, account, region string) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(trail, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(trail, path)
		key := filepath.ToSlash(rel)
		if m := logFileKey.FindStringSubmatch(key); m != nil && m[1] == account && m[2] == region {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tail is the end of a long output: validate-logs prints a line per file.
func tail(s string) string {
	if lines := strings.Split(s, "\n"); len(lines) > 30 {
		return "…\n" + strings.Join(lines[len(lines)-30:], "\n")
	}
	return s
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}
