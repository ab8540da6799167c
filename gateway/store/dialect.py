"""What the store's SQL cannot say the same way in SQLite and PostgreSQL, said once.

The repositories' SQL is written once, portable where it can be (`INSERT ... ON CONFLICT`,
`RETURNING`, `COALESCE(SUM(x), 0)`, `IS DISTINCT FROM`, explicit ids). What is not
portable (a local day from an epoch, an ISO time read as an epoch, string aggregation,
scalar min/max, a boolean counted as a number, triggers) comes from the connection's
dialect (`db.dialect`), so that a query states its meaning and the engine its spelling.

SQLite's spellings are those its released schema steps were written with: the figures'
steps are generated through `SQLITE` and must come out as they were released.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    """One engine's spellings. `name` is "sqlite" or "postgresql"."""

    name: str

    @property
    def postgresql(self) -> bool:
        """Whether this is PostgreSQL's (the store's one alternative to SQLite)."""
        return self.name == "postgresql"

    def day(self, epoch: str, offset: str) -> str:
        """The day number (days since 1970-01-01) of `epoch` seconds shifted by `offset`.
        SQLite's CAST truncates; PostgreSQL's rounds, so it floors first."""
        if self.postgresql:
            return f"CAST(floor(({epoch} + {offset}) / 86400.0) AS INTEGER)"
        return f"CAST(({epoch} + {offset}) / 86400 AS INTEGER)"

    def epoch_or_now(self, iso: str) -> str:
        """Seconds since the epoch of an ISO date and time with its offset, as an integer;
        now if the engine cannot read it (a dossier is never refused for the figures)."""
        if self.postgresql:
            return f"motcua_epoch({iso})"
        return f"COALESCE(strftime('%s', {iso}), strftime('%s', 'now'))"

    def date_day(self, iso_date: str) -> str:
        """The day number of an ISO date; NULL if it is not one."""
        if self.postgresql:
            return f"motcua_date_day({iso_date})"
        return f"CAST(julianday({iso_date}) - 2440587.5 AS INTEGER)"

    def least(self, a: str, b: str) -> str:
        """The smaller of two values (SQLite's scalar min, PostgreSQL's LEAST)."""
        return f"LEAST({a}, {b})" if self.postgresql else f"min({a}, {b})"

    def joined(self, expr: str, separator: str) -> str:
        """The values of `expr` in a group, joined by `separator` (a literal)."""
        if self.postgresql:
            return f"string_agg(CAST({expr} AS TEXT), '{separator}')"
        return f"group_concat({expr}, '{separator}')"

    def number(self, condition: str) -> str:
        """A condition as 1 or 0, to add up (SQLite's booleans are numbers already)."""
        return f"CAST({condition} AS INTEGER)" if self.postgresql else condition

    def same(self, a: str, b: str) -> str:
        """`a` equals `b`, NULL equal to NULL."""
        return f"{a} IS NOT DISTINCT FROM {b}" if self.postgresql else f"{a} IS {b}"

    def differs(self, a: str, b: str) -> str:
        """`a` differs from `b`, NULL equal to NULL."""
        return f"{a} IS DISTINCT FROM {b}" if self.postgresql else f"{a} IS NOT {b}"

    def alias(self, name: str) -> str:
        """An alias for a subquery in FROM: PostgreSQL 15 requires one, SQLite's released
        steps have none."""
        return f" AS {name}" if self.postgresql else ""

    @property
    def offset(self) -> str:
        """The figures' zone column, `offset`, a reserved word in PostgreSQL."""
        return '"offset"' if self.postgresql else "offset"

    def insert_ignoring(self, insert: str) -> str:
        """`insert` (an `INSERT INTO ... SELECT/VALUES ...` without a conflict clause)
        leaving out rows that conflict with one held."""
        if self.postgresql:
            return f"{insert} ON CONFLICT DO NOTHING"
        return insert.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)

    def trigger(self, name: str, timing: str, table: str, when: str | None, body: str) -> str:
        """A row trigger: `timing` as SQLite writes it (`AFTER UPDATE OF state ON`, without
        the table), `when` its condition (None: always), `body` its statements, each
        ending with `;`. PostgreSQL's is a plpgsql function of the same name, the
        condition tested in it (a trigger's WHEN can hold no subquery there)."""
        if not self.postgresql:
            condition = f"\n        WHEN {when}" if when else ""
            return f"CREATE TRIGGER {name} {timing} {table}{condition} BEGIN\n{body}\n    END;"
        test = f"IF NOT ({when}) THEN RETURN NULL; END IF;" if when else ""
        result = "OLD" if "DELETE" in timing else "NEW"
        return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {test}
{body}
        RETURN {result};
    END $$;
    CREATE TRIGGER {name} {timing} {table} FOR EACH ROW EXECUTE FUNCTION {name}();"""


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")

# PostgreSQL's helpers behind `epoch_or_now` and `date_day`: a text SQLite cannot read is
# NULL there, where PostgreSQL's casts raise.
POSTGRESQL_FUNCTIONS = """
    CREATE FUNCTION motcua_epoch(iso TEXT) RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$
    BEGIN
        RETURN floor(extract(epoch FROM CAST(iso AS timestamptz)));
    EXCEPTION WHEN others THEN
        RETURN floor(extract(epoch FROM now()));
    END $$;
    CREATE FUNCTION motcua_date_day(iso TEXT) RETURNS INTEGER LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        RETURN CAST(iso AS date) - DATE '1970-01-01';
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$;
"""
