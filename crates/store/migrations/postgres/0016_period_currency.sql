-- Billing Engine, PostgreSQL schema 16: a stored period's billing currency (the BillingCurrency
-- every row shares; NULL when the rows have none or several), so its totals are shown with it.

ALTER TABLE periods ADD COLUMN billing_currency TEXT;
