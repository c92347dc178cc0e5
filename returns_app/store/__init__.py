"""The database: the connection and its write transaction, the migrations, the outbox and the
page shelf. The only place that imports sqlite-utils."""
