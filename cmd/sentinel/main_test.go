package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sentinel-audit/sentinel/ingest"
)

// binary is the sentinel executable built once for the integration tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sentinel-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "sentinel")
	// The binary is built as the tests are: with libdeflate when they are (make test's build).
	tags := ""
	if ingest.Inflater == "libdeflate" {
		tags = "libdeflate"
	}
	build := exec.Command("go", "build", "-tags", tags, "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sentinel:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if fixtureWarehouse.dir != "" {
		os.RemoveAll(filepath.Dir(fixtureWarehouse.dir))
	}
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// sentinel runs the built binary with args and env (added to a clean environment that has no
// AWS or Sentinel settings of the developer's), from the repository root.
func sentinel(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := sentinelCommand(t, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run sentinel %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// sentinelCommand is how sentinel runs the binary: env added to a clean environment, from the
// repository root.
func sentinelCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = repoRoot(t)
	home := t.TempDir()
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true"}, env...)
	return cmd
}

// mustExit fails the test unless r ended with code.
func (r result) mustExit(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
