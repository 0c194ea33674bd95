"""A duckdb-engine dialect that buffers every result as soon as the statement has run.

Great Expectations reads metric rows *after* leaving the `with engine.connect()` block that
executed them. Closing that block rolls the connection back, and in duckdb the connection is
also the cursor, so the pending rows vanish: every expectation comes back with an empty
metric bundle (`IndexError` in `resolve_metric_bundle`, GX issue #11579). Fetching the whole
result right after execution, the way SQLAlchemy already does for drivers whose conversation
ends early, keeps the rows alive. Metric queries return a handful of rows, so buffering costs
nothing; the validation work stays inside DuckDB.

Registered as the SQLAlchemy dialect `duckdb_buffered` (entry point in pyproject.toml), so a
URL `duckdb_buffered:///path/to/file.duckdb` selects it.
"""

from __future__ import annotations

from typing import Any

from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy import text
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql.psycopg2 import PGExecutionContext_psycopg2
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

DIALECT_NAME = "duckdb_buffered"


class BufferedExecutionContext(PGExecutionContext_psycopg2):
    def post_exec(self) -> None:
        super().post_exec()
        if self.cursor.description is not None:
            self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(
                self.cursor, self.cursor.description
            )


# DuckDB's own type names (as `duckdb_columns()` spells them, parameters stripped).
_DUCKDB_TYPES: dict[str, type[sqltypes.TypeEngine]] = {
    "VARCHAR": sqltypes.String,
    "JSON": sqltypes.JSON,
    "BOOLEAN": sqltypes.Boolean,
    "TINYINT": sqltypes.SmallInteger,
    "SMALLINT": sqltypes.SmallInteger,
    "INTEGER": sqltypes.Integer,
    "BIGINT": sqltypes.BigInteger,
    "HUGEINT": sqltypes.BigInteger,
    "DECIMAL": sqltypes.Numeric,
    "DOUBLE": sqltypes.Float,
    "FLOAT": sqltypes.Float,
    "DATE": sqltypes.Date,
    "TIME": sqltypes.Time,
    "TIMESTAMP": sqltypes.DateTime,
    "TIMESTAMP WITH TIME ZONE": sqltypes.DateTime,
    "INTERVAL": sqltypes.Interval,
    "UUID": sqltypes.Uuid,
    "BLOB": sqltypes.LargeBinary,
}


def _sqlalchemy_type(duckdb_type: str) -> sqltypes.TypeEngine:
    base = duckdb_type.split("(", 1)[0].strip().upper()
    if base == "DECIMAL" and "(" in duckdb_type:
        precision, scale = duckdb_type.split("(", 1)[1].rstrip(")").split(",")
        return sqltypes.Numeric(int(precision), int(scale))
    return _DUCKDB_TYPES.get(base, sqltypes.NullType)()


class BufferedDuckDBDialect(DuckDBDialect):
    name = DIALECT_NAME
    execution_ctx_cls = BufferedExecutionContext
    # As duckdb-engine: SQLAlchemy asks every subclass to state it again.
    supports_statement_cache = False

    def on_connect(self) -> Any:
        parent = super().on_connect()

        def quiet(dbapi_connection: Any) -> None:
            if parent is not None:
                parent(dbapi_connection)
            # Validation runs unattended; duckdb's progress bar would print into the summary.
            dbapi_connection.execute("set enable_progress_bar = false")

        return quiet

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """Columns from DuckDB's catalogue.

        SQLAlchemy 2.1's PostgreSQL reflection joins `pg_catalog.pg_collation`, which DuckDB
        does not emulate, so the inherited method fails and GX falls back to a query that drops
        the schema name.
        """
        rows = connection.execute(
            text(
                "select column_name, data_type, is_nullable, column_default "
                "from duckdb_columns() "
                "where table_name = :table and schema_name = coalesce(:schema, current_schema()) "
                "order by column_index"
            ),
            {"table": table_name, "schema": schema},
        ).fetchall()
        return [
            {
                "name": name,
                "type": _sqlalchemy_type(data_type),
                "nullable": bool(nullable),
                "default": default,
                "autoincrement": False,
                "comment": None,
            }
            for name, data_type, nullable, default in rows
        ]


def connection_url(db_path: str, *, read_only: bool = True) -> str:
    """SQLAlchemy URL of a DuckDB file through the buffered dialect."""
    url = f"{DIALECT_NAME}:///{db_path}"
    return f"{url}?access_mode=read_only" if read_only else url


def teach_gx(execution_engine: Any) -> None:
    """Let a GX SQL execution engine pick its PostgreSQL code paths for this dialect.

    GX maps only dialect *names* it knows to a dialect module and leaves `dialect_module`
    empty otherwise, which disables the regex expectations ("Regex is not supported for
    dialect duckdb_buffered"). duckdb-engine is a PostgreSQL-family dialect and DuckDB
    implements PostgreSQL's `~` / `!~` regex operators, so GX's PostgreSQL branch applies.
    """
    from sqlalchemy.dialects import postgresql

    execution_engine.dialect_module = postgresql
