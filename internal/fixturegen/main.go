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
// demonstrates and the expected audit numbers. -out and -broken write elsewhere; the test compares
// such a run with the committed files byte for byte.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const (
	// The default -out and -broken, relative to the repository root.
	defaultOut    = "testdata/fixtures"
	defaultBroken = "testdata/broken"

	ctTime   = "2006-01-02T15:04:05Z"
	awsExp   = "Jan 2, 2006, 3:04:05 PM" // CloudTrail's credentials.expiration format
	fileTime = "20060102T1504Z"
)

// outputs are what the generator writes under -out, each deleted before it is rewritten. Nothing
// else there is touched: README.md and sentinel.yaml are written by hand.
var outputs = []string{"trail", "handoff", "sessions", "aws-config", "policy.yaml", signaturesFile}

// brokenFiles are what it writes under -broken, each deleted before it is rewritten.
var brokenFiles = []string{"corrupt.json.gz", "empty.json", "not-cloudtrail.json", "truncated.json"}

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
	out, broken string // the -out and -broken directories
	events      []*event
	byKey       map[string]*event
}

func main() {
	out := flag.String("out", defaultOut, "directory of the fixtures: its "+strings.Join(outputs, ", ")+" are deleted and rewritten, nothing else")
	broken := flag.String("broken", defaultBroken, "directory of the broken inputs: its "+strings.Join(brokenFiles, ", ")+" are deleted and rewritten, nothing else")
	flag.Parse()
	if flag.NArg() > 0 {
		exit(fmt.Errorf("unexpected arguments %q: the only inputs are -out and -broken", flag.Args()))
	}
	if *out == defaultOut || *broken == defaultBroken {
		if b, err := os.ReadFile("go.mod"); err != nil || !strings.Contains(string(b), "module github.com/sentinel-audit/sentinel\n") {
			exit(errors.New("the default -out and -broken are relative to the repository root: run from there (go run ./internal/fixturegen), or give both flags"))
		}
	}
	if err := generate(*out, *broken, os.Stdout); err != nil {
		exit(err)
	}
}

func exit(err error) {
	fmt.Fprintln(os.Stderr, "fixturegen:", err)
	os.Exit(1)
}

// generate deletes and rewrites the fixtures under out and the broken inputs under broken, and
// prints the manifest (trail files and every record's label, eventID and issued key) to manifest.
func generate(out, broken string, manifest io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	for _, p := range outputs {
		must(os.RemoveAll(filepath.Join(out, p)))
	}
	for _, p := range brokenFiles {
		must(os.RemoveAll(filepath.Join(broken, p)))
	}

	g := &gen{out: out, broken: broken, byKey: map[string]*event{}}
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
	g.writeSnapshots()
	write(filepath.Join(out, "aws-config"), []byte(awsConfig))
	write(filepath.Join(out, "policy.yaml"), []byte(policyYAML))
	g.writeBroken()
	g.printManifest(manifest, files)
	return nil
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
func (g *gen) printManifest(w io.Writer, files []*trailFile) {
	fmt.Fprintf(w, "trail log files: %d\n", len(files))
	for _, f := range files {
		labels := make([]string, len(f.events))
		for i, e := range f.events {
			labels[i] = e.label
		}
		fmt.Fprintf(w, "  %s  [%s]\n", strings.TrimPrefix(f.path, "trail/AWSLogs/"+org+"/"), strings.Join(labels, " "))
	}
	fmt.Fprintln(w, "records:")
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
		fmt.Fprintf(w, "  %-6s %s %s %-20s %s\n", e.label, e.rec.str("eventID"), e.at.Format(ctTime), key, strings.Join(in, ","))
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

// failure carries an error from deep in the generation (a write that failed, scenario tables that
// contradict each other) up to generate, which returns it.
type failure struct{ err error }

func fail(err error) { panic(failure{err}) }
