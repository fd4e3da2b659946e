// Command fixturegen writes Sentinel's audit fixtures: a small organization's CloudTrail archive
// (with the messiness real trails have), the handoff files people give an auditor, two
// session-table snapshots, an AWS shared config file, a policy, and a few broken inputs.
//
// Run it from the repository root:
//
//	go run ./internal/fixturegen
//
// It deletes and rewrites everything it generates (never README.md or sentinel.yaml) and is
// deterministic: every id, key and timestamp is derived from the scenario tables (scenario.go),
// gzip headers carry no name or mtime. testdata/fixtures/README.md documents what each file
// demonstrates and the expected audit numbers.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const (
	root     = "testdata/fixtures"
	broken   = "testdata/broken"
	ctTime   = "2006-01-02T15:04:05Z"
	awsExp   = "Jan 2, 2006, 3:04:05 PM" // CloudTrail's credentials.expiration format
	fileTime = "20060102T1504Z"
)

type event struct {
	label   string
	rec     obj
	acct    string // folder account (recipientAccountId)
	region  string
	at      time.Time
	sinks   map[string]bool
	deliver []time.Time
}

type gen struct {
	events []*event
	byKey  map[string]*event
}

func main() {
	if b, err := os.ReadFile("go.mod"); err != nil || !strings.Contains(string(b), "module github.com/sentinel-audit/sentinel\n") {
		fail(fmt.Errorf("run from the repository root: go run ./internal/fixturegen"))
	}
	for _, p := range []string{"trail", "handoff", "sessions", "aws-config", "policy.yaml", signaturesFile} {
		must(os.RemoveAll(filepath.Join(root, p)))
	}
	must(os.RemoveAll(broken))

	g := &gen{byKey: map[string]*event{}}
	for _, is := range issuances {
		g.addIssuance(is)
	}
	for _, o := range others {
		g.addOther(o)
	}
	g.applyQuirks()
	g.addCopiesAndCorrections()
	g.setDeliveries()

	files := g.writeTrail()
	g.writeDigests(files)
	g.writeInsight()
	g.writeHandoff()
	writeSnapshots()
	write(filepath.Join(root, "aws-config"), []byte(awsConfig))
	write(filepath.Join(root, "policy.yaml"), []byte(policyYAML))
	g.writeBroken()
	g.printManifest(files)
}

func (g *gen) add(e *event) {
	if g.byKey[e.label] != nil {
		fail(fmt.Errorf("duplicate label %s", e.label))
	}
	g.events = append(g.events, e)
	g.byKey[e.label] = e
}

func sinks(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		switch f {
		case "trail", "lookup", "cw", "export", "bare":
			m[f] = true
		default:
			fail(fmt.Errorf("unknown sink %q", f))
		}
	}
	return m
}

// printManifest prints what was written and the ids of the scenario's records, for README.md.
func (g *gen) printManifest(files []*trailFile) {
	fmt.Printf("trail log files: %d\n", len(files))
	for _, f := range files {
		labels := make([]string, len(f.events))
		for i, e := range f.events {
			labels[i] = e.label
		}
		fmt.Printf("  %s  [%s]\n", strings.TrimPrefix(f.path, "trail/AWSLogs/"+org+"/"), strings.Join(labels, " "))
	}
	fmt.Println("records:")
	for _, e := range g.events {
		key := ""
		if re, ok := e.rec.get("responseElements"); ok && re != nil && e.rec.str("eventSource") == "sts.amazonaws.com" {
			key = re.(obj).obj("credentials").str("accessKeyId")
		}
		in := make([]string, 0, len(e.sinks))
		for s := range e.sinks {
			in = append(in, s)
		}
		sort.Strings(in)
		fmt.Printf("  %-6s %s %s %-20s %s\n", e.label, e.rec.str("eventID"), e.at.Format(ctTime), key, strings.Join(in, ","))
	}
}

func write(path string, b []byte) {
	must(os.MkdirAll(filepath.Dir(path), 0o755))
	must(os.WriteFile(path, b, 0o644))
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
