"""The durable store: one database on its own thread (an SQLite file, or a PostgreSQL
database that several daemons may share), migrations, group commit, and one repository
per concern. Nothing above it writes SQL.
"""
