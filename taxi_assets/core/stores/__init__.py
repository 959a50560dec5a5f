"""Store clients: the file store, Postgres (month swap), the lake (GCS) and BigQuery."""
