-- The demo target of the trial: database app, owned by role app (whose password only the gateway holds),
-- with customers whose emails and phones the policy masks.
CREATE ROLE app LOGIN PASSWORD 'trial-app-password';
CREATE DATABASE app OWNER app;
\connect app
SET ROLE app;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, phone text);
INSERT INTO customers
SELECT i, 'Customer ' || i, 'customer' || i || '@example.com', '+1-555-010-' || lpad(i::text, 4, '0')
FROM generate_series(1, 100) i;
