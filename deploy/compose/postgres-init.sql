-- the Dagster instance's database, beside the trip tables' database (POSTGRES_DB=taxi)
CREATE DATABASE dagster;
