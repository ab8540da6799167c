"""The durable store: one SQLite database on its own thread, migrations, group commit, and one
repository per concern. Nothing above it writes SQL.
"""
