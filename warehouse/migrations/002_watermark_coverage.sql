-- API syncs remember the start of the contiguous range they cover, so a later run with an earlier
-- --since knows it must fetch further back.
ALTER TABLE watermarks ADD COLUMN covered_from TIMESTAMPTZ;
