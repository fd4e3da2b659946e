-- The issuance index moved from these tables to the lake (dataset issuances: an issuances file
-- beside each events file, registered in lake_files), so that committing a checkpoint no longer
-- loads and checkpoints its issuances in the catalog. The writer that applies this writes the
-- issuances files of the existing events files when it finishes; until then readers read those
-- files' issuances from the events.
DROP TABLE IF EXISTS issuance_index;
DROP TABLE IF EXISTS issuance_index_files;
