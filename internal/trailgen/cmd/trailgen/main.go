// Command trailgen writes a synthetic CloudTrail organization trail and session snapshot for
// load tests and prints what it wrote (the counts an audit must find) as JSON:
//
//	go run ./internal/trailgen/cmd/trailgen -events 1000000 -seed 1 -out /tmp/trail
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/internal/trailgen"
)

func main() {
	var cfg trailgen.Config
	var out, start, accounts, regions string
	flag.IntVar(&cfg.Events, "events", 100_000, "records to generate, issuances included")
	flag.Int64Var(&cfg.Seed, "seed", 1, "seed: the same flags give the same bytes")
	flag.StringVar(&start, "start", trailgen.DefaultStart.Format(time.RFC3339), "time of the first issuance (RFC 3339)")
	flag.IntVar(&cfg.Days, "days", trailgen.DefaultDays, "days the events span")
	flag.StringVar(&accounts, "accounts", strings.Join(trailgen.DefaultAccounts, ","), "comma-separated 12-digit account ids")
	flag.StringVar(&regions, "regions", strings.Join(trailgen.DefaultRegions, ","), "comma-separated regions")
	flag.IntVar(&cfg.RecordsPerFile, "records-per-file", trailgen.DefaultRecordsPerFile, "records per trail file")
	flag.StringVar(&out, "out", "", "directory to write AWSLogs/... and sessions/snapshot.jsonl into (required)")
	flag.Parse()
	if err := run(cfg, out, start, accounts, regions); err != nil {
		fmt.Fprintln(os.Stderr, "trailgen:", err)
		os.Exit(2)
	}
}

func run(cfg trailgen.Config, out, start, accounts, regions string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	cfg.Start = t
	cfg.Accounts = strings.Split(accounts, ",")
	cfg.Regions = strings.Split(regions, ",")
	began := time.Now()
	st, err := trailgen.Generate(cfg, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "trailgen: %d events in %d files in %s\n", st.Events, st.Files, time.Since(began).Round(time.Millisecond))
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}
