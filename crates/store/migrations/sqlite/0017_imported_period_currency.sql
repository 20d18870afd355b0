-- Billing Engine, SQLite schema 17: an imported period's billing currency (the BillingCurrency
-- every row shares; NULL when the rows have several), so its totals are shown with it.

ALTER TABLE imported_periods ADD COLUMN billing_currency TEXT;
