-- Schema 15: a period's pull records the values its conversion could not use as written (optional
-- columns stored as null, unknown charge types mapped to adjustments): how many, and the first
-- few examples (one per line, each naming its file, line and column).
ALTER TABLE sync_periods ADD COLUMN warning_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_periods ADD COLUMN warnings TEXT;
