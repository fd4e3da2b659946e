package main

import (
	"time"

	"github.com/sentinel-audit/sentinel/ddl"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/urfave/cli/v2"
)

func warehouseCommand() *cli.Command {
	return &cli.Command{
		Name:  "warehouse",
		Usage: "inspect the warehouse and take it beyond one machine (Athena, Trino, Spark)",
		// One entry per subcommand.
		Subcommands: []*cli.Command{
			warehouseDDLCommand(),
			warehouseInfoCommand(),
			warehouseCompactCommand(),
		},
	}
}

func warehouseCompactCommand() *cli.Command {
	return &cli.Command{
		Name:  "compact",
		Usage: "merge each partition's small lake files into one and drop duplicate events",
		Description: "Takes the writer lock like an ingest. Each partition is rewritten into one file and swapped in\n" +
			"atomically; events keep one row per eventID (the row the events view shows), so every query answers\n" +
			"the same before and after. Superseded originals of corrected records are kept.\n\n" +
			"Exit status: 0 done, 2 on error (e.g. another ingest holds the lock; pass --wait).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "wait", Usage: "wait for a running ingest instead of failing"},
		},
		Action: func(c *cli.Context) error {
			in, err := compactInput(c, time.Now())
			if err != nil {
				return err
			}
			return reports.Compact(c.Context, in, c.App.Writer)
		},
	}
}

func warehouseDDLCommand() *cli.Command {
	return &cli.Command{
		Name:  "ddl",
		Usage: "print CREATE TABLE statements and the audit queries for Athena, Trino or Spark",
		Description: "Prints, for the engine, the statements that make Sentinel's Parquet data queryable there: Athena\n" +
			"tables with partition projection on the date partition; Trino Hive-connector tables plus\n" +
			"system.sync_partition_metadata; Spark tables plus MSCK REPAIR TABLE. Then the session-compliance\n" +
			"and untracked-issuances queries in that engine's SQL, engine-specific lines marked.\n\n" +
			"--layout export (default): the tables `sentinel export --to LOCATION --format parquet` writes\n" +
			"(events, issuances, sessions, compliance). --layout lake: the warehouse's own lake directory synced\n" +
			"to LOCATION/lake (events_all, session_snapshots) plus views that rebuild events, sessions and\n" +
			"issuances from it (no profile map, no policy columns). See docs/scale.md.\n\n" +
			"Reads no warehouse and makes no AWS call.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "engine", Usage: "athena, trino or spark (required)"},
			&cli.StringFlag{Name: "location", Usage: "where the data is (required): s3://BUCKET/PREFIX (Trino and Spark also take s3a://, gs://, ...)"},
			&cli.StringFlag{Name: "layout", Value: ddl.LayoutExport, Usage: "export (what sentinel export --format parquet writes) or lake (the warehouse's lake, synced)"},
			&cli.StringFlag{Name: "database", Value: "sentinel", Usage: "database (schema) to create the tables in"},
		},
		Action: func(c *cli.Context) error {
			return ddl.Write(ddlInput(c), c.App.Writer)
		},
	}
}

// ddlInput is the input of `sentinel warehouse ddl`: its flags.
func ddlInput(c *cli.Context) ddl.Input {
	return ddl.Input{
		Engine:   c.String("engine"),
		Location: c.String("location"),
		Layout:   c.String("layout"),
		Database: c.String("database"),
	}
}

func warehouseInfoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "what the warehouse holds: lake files, rows, bytes and dates; the ingest ledger by source; runs; sessions; watermarks",
		Description: "Reads the catalog and the lake (never writes). Lake rows count every stored record; the events view\n" +
			"deduplicates them. The ledger is summed per kind of source object (trail, snapshot, digest, insight, api)\n" +
			"and scheme (file://, s3://, cloudtrail-api://, dynamodb://).",
		Flags: append(formatFlags(reports.FormatTable, "table or json"), wideFlag()),
		Action: func(c *cli.Context) error {
			in, err := warehouseInfoInput(c)
			if err != nil {
				return err
			}
			_, err = reports.WarehouseInfo(c.Context, in, c.App.Writer)
			return err
		},
	}
}

func compactInput(c *cli.Context, now time.Time) (reports.CompactInput, error) {
	dir, err := resolveWarehouse(c)
	return reports.CompactInput{Warehouse: dir, Wait: c.Bool("wait"), Now: now}, err
}

func warehouseInfoInput(c *cli.Context) (reports.WarehouseInfoInput, error) {
	dir, err := resolveWarehouse(c)
	if err != nil {
		return reports.WarehouseInfoInput{}, err
	}
	format, err := outputFormat(c)
	return reports.WarehouseInfoInput{Warehouse: dir, Format: format, Width: tableWidth(c)}, err
}
