package trailgen

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
)

// Cached returns a directory below root holding Generate's output for cfg, generating it only
// when no earlier call left it there (benchmarks of several packages share the data this way). A
// directory is complete once it holds stats.json: output is generated beside it and renamed into
// place. generated reports whether this call generated it.
func Cached(root string, cfg Config) (dir string, st Stats, generated bool, err error) {
	name := fmt.Sprintf("trailgen-v%d-events%d-seed%d-days%d-rpf%d", FormatVersion, cfg.Events, cfg.Seed, cfg.Days, cfg.RecordsPerFile)
	if len(cfg.Accounts) > 0 || len(cfg.RegionShares) > 0 {
		// An organization layout: too many names for a file name.
		h := fnv.New64a()
		fmt.Fprint(h, cfg.Accounts, cfg.Regions, cfg.RegionShares)
		name += fmt.Sprintf("-accounts%d-regions%d-org%x", len(cfg.Accounts), len(cfg.Regions), h.Sum64())
	} else if len(cfg.Regions) > 0 {
		name += "-" + strings.Join(cfg.Regions, "_")
	}
	if cfg.NoDigests {
		name += "-nodigests"
	}
	dir = filepath.Join(root, name)
	if data, err := os.ReadFile(filepath.Join(dir, "stats.json")); err == nil && json.Unmarshal(data, &st) == nil && st.Events == cfg.Events {
		return dir, st, false, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", Stats{}, false, fmt.Errorf("trail cache: %w", err)
	}
	tmp, err := os.MkdirTemp(root, name+".tmp-")
	if err != nil {
		return "", Stats{}, false, fmt.Errorf("trail cache: %w", err)
	}
	if st, err = Generate(cfg, tmp); err != nil {
		os.RemoveAll(tmp)
		return "", Stats{}, false, fmt.Errorf("generate %d events into %s: %w", cfg.Events, tmp, err)
	}
	data, err := json.Marshal(st)
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, "stats.json"), data, 0o644)
	}
	if err == nil {
		os.RemoveAll(dir)
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", Stats{}, false, fmt.Errorf("trail cache %s: %w", dir, err)
	}
	return dir, st, true, nil
}
