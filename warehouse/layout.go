// Package warehouse owns the local warehouse: a directory holding the lake (immutable,
// Hive-partitioned Parquet files readable as-is by DuckDB, Athena, Trino and Spark) and the catalog
// (a DuckDB file with the ingest ledger, lake file registry, snapshots, watermarks and run history).
// One writer at a time holds the warehouse lock; readers see only committed lake files.
package warehouse

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Datasets of the lake and their partition columns. Each events file has an issuances file of
// the same name (issuancesFileOf): the issuance index, which the audits read instead of the events.
const (
	DatasetEvents    = "events"
	DatasetSnapshots = "session_snapshots"
	DatasetIssuances = "issuances"
)

const (
	catalogName = "catalog.duckdb"
	lockName    = ".lock"
	lakeName    = "lake"
	tmpName     = ".tmp"
	schemaName  = "schema"
	dirMode     = 0o700
	fileMode    = 0o600
)

var partitionColumn = map[string]string{
	DatasetEvents:    "event_date",
	DatasetSnapshots: "snapshot_date",
	DatasetIssuances: "event_date",
}

// DefaultDir is the warehouse used when neither --warehouse nor SENTINEL_WAREHOUSE is given:
// $XDG_DATA_HOME/sentinel, ~/.local/share/sentinel, or ~/Library/Application Support/sentinel on macOS.
func DefaultDir() (string, error) {
	if runtime.GOOS == "windows" {
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "sentinel"), nil
		}
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "sentinel"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the default warehouse directory: %w (use --warehouse)", err)
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Application Support", "sentinel"), nil
	}
	return filepath.Join(home, ".local", "share", "sentinel"), nil
}

// CatalogPath is the catalog database inside the warehouse directory root.
func CatalogPath(root string) string { return filepath.Join(root, catalogName) }

// LakeDir is the lake directory of dataset inside the warehouse directory root.
func LakeDir(root, dataset string) string { return filepath.Join(root, lakeName, dataset) }

func partitionDir(dataset, date string) string {
	return filepath.Join(lakeName, dataset, partitionColumn[dataset]+"="+date)
}

// issuancesFileOf is the lake-relative path of the issuances file of the events file rel: the same
// partition and name, in the issuances dataset.
func issuancesFileOf(rel string) string {
	return filepath.Join(lakeName, DatasetIssuances, strings.TrimPrefix(rel, filepath.Join(lakeName, DatasetEvents)+string(filepath.Separator)))
}

func schemaFile(root, dataset string) string {
	return filepath.Join(root, schemaName, dataset, partitionColumn[dataset]+"=1970-01-01", "empty.parquet")
}
