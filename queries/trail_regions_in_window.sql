-- trail_regions_in_window: the accounts and regions whose trail log files speak for the window:
-- the events read from them (the coverage table, kind trail) span a part of it.
SELECT account, region
FROM coverage
WHERE kind = 'trail' AND oldest_event < $until AND newest_event > $since
ORDER BY account, region;
