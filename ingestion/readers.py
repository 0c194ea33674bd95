"""Stage one export file into DuckDB temp tables, every value as text, every record numbered.

After `stage_file`, the connection holds:
  _stage    `_source_row` (1-based data-record number, see interfaces) plus one VARCHAR column
            per export column, named as in the export;
  _garbled  records that could not be split into fields (`_source_row`, `record`, `detail`).
Typing and checks happen later, in SQL, against the contract (ingestion/validation.py).

CSV numbering without giving up the parallel reader: a CTAS keeps insertion order, so the
staged table's `rowid` is the ordinal of each parsed record; the reader's rejects table knows
the record number of every unparseable line, and the k-th parsed record takes the k-th number
no garbled line holds. Measured in docs/ingestion.md.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm.errors import UserError
from ingestion.mapping import Source
from ingestion.sqltext import ident, literal
from ingestion.transcode import REPLACEMENT, duckdb_encoding, transcode_to_utf8

# Longest CSV/JSONL record accepted (DuckDB's default is 2 MB); longer lines become rejects.
MAX_LINE_BYTES = 8_000_000


@dataclass(frozen=True)
class Staged:
    columns: tuple[str, ...]  # export columns in file order
    rows: int  # records split into fields
    garbled: int  # records that could not be
    # DuckDB type of each column where the file carries types (Parquet); empty = all VARCHAR.
    types: dict[str, str] = field(default_factory=dict)


class FileProblem(UserError):
    """The file as a whole cannot be loaded (the message names the problem, not the file)."""


def _drop(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop the previous file's temp objects (a failed statement would abort the transaction,
    so look them up rather than try)."""
    found = con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() "
        "WHERE temporary AND list_contains($1, view_name) UNION ALL "
        "SELECT table_name, 'TABLE' FROM duckdb_tables() "
        "WHERE temporary AND list_contains($1, table_name)",
        [list(names)],
    ).fetchall()
    # Views first: they depend on the tables.
    for name, kind in sorted(found, key=lambda row: row[1] != "VIEW"):
        con.execute(f"DROP {kind} {name}")


def _number_with_rejects(con: duckdb.DuckDBPyConnection, read_table: str) -> None:
    """Create view `_stage` over `read_table`, numbering records around the reader's rejects.

    Good record k (1-based `rowid` order) sits at the k-th record number that is not a garbled
    line's. Those numbers, in order, go to `_numbers`, which a POSITIONAL JOIN lays beside the
    rows: one cheap pass, where an ASOF join carrying every column cost a sort of the whole file
    at each scan (1.8 s against 0.6 s for 3 M rows).
    """
    rows = con.execute(f"SELECT count(*) FROM {read_table}").fetchone()[0]
    garbled = con.execute("SELECT count(*) FROM _garbled").fetchone()[0]
    if not garbled:
        con.execute(
            f"CREATE TEMP VIEW _stage AS SELECT (rowid + 1)::BIGINT AS _source_row, * "
            f"FROM {read_table}"
        )
        return
    # At most `garbled` of the first rows + garbled numbers are taken, so enough remain.
    con.execute(
        f"""
        CREATE TEMP TABLE _numbers AS
        SELECT n AS _source_row FROM range(1, {rows + garbled + 1}) AS r(n)
        WHERE n NOT IN (SELECT _source_row FROM _garbled WHERE _source_row IS NOT NULL)
        ORDER BY n LIMIT {rows}
        """
    )
    con.execute(
        f"CREATE TEMP VIEW _stage AS SELECT n._source_row, s.* "
        f"FROM {read_table} AS s POSITIONAL JOIN _numbers AS n"
    )


def _collect_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    # One line can yield several errors (one per missing column): keep one per record.
    con.execute(
        """
        CREATE TEMP TABLE _garbled AS
        SELECT (line - 1)::BIGINT AS _source_row,
               first(csv_line ORDER BY column_idx) AS record,
               first(error_message ORDER BY column_idx) AS detail
        FROM _rej GROUP BY line
        """
    )


def _csv_header(path: Path, encoding: str, delimiter: str, quote: str) -> list[str]:
    # utf-8-sig reads plain UTF-8 too and drops a byte-order mark.
    python_encoding = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    try:
        with path.open(encoding=python_encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=delimiter, quotechar=quote or None), None)
    except UnicodeDecodeError as exc:
        raise FileProblem(f"header is not valid {encoding} ({exc.reason})") from None
    if not header:
        raise FileProblem("file is empty (no header line)")
    names = [h.strip() or f"column{i}" for i, h in enumerate(header, start=1)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FileProblem(f"column name(s) repeated in the header: {', '.join(repeated)}")
    return names


def _stage_csv(con, path: Path, source: Source, scratch: Path) -> Staged:
    native = duckdb_encoding(source.encoding)
    flag_replaced = False
    if native is None:
        decoded = scratch / "decoded.csv"
        flag_replaced = transcode_to_utf8(path, decoded, source.encoding)
        path, native = decoded, "utf-8"
    columns = _csv_header(path, native, source.delimiter, source.quote)
    spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in columns) + "}"
    quote = literal(source.quote)
    con.execute(
        f"""
        CREATE TEMP TABLE _read AS SELECT * FROM read_csv({literal(str(path))},
            columns = {spec}, header = true, auto_detect = false,
            delim = {literal(source.delimiter)}, quote = {quote}, escape = {quote},
            encoding = {literal(native)}, max_line_size = {MAX_LINE_BYTES},
            store_rejects = true, rejects_table = '_rej', rejects_scan = '_rej_scan')
        """
    )
    _collect_reader_rejects(con)
    _number_with_rejects(con, "_read")
    if flag_replaced:
        _move_replaced_to_garbled(con, columns, source)
    return _counts(con, columns)


def _move_replaced_to_garbled(con, columns: list[str], source: Source) -> None:
    """Bytes invalid in the declared encoding were decoded as U+FFFD: those records are
    garbled, not data."""
    joined = "concat_ws(" + literal(source.delimiter) + ", " + ", ".join(map(ident, columns)) + ")"
    con.execute("CREATE TEMP TABLE _stage_t AS SELECT * FROM _stage")
    con.execute(
        f"""
        INSERT INTO _garbled
        SELECT _source_row, {joined}, {literal(f"bytes not valid in {source.encoding}")}
        FROM _stage_t WHERE contains({joined}, {literal(REPLACEMENT)})
        """
    )
    con.execute(f"DELETE FROM _stage_t WHERE contains({joined}, {literal(REPLACEMENT)})")
    con.execute("DROP VIEW _stage")
    con.execute("ALTER TABLE _stage_t RENAME TO _stage")


def _stage_jsonl(con, path: Path, source: Source, scratch: Path) -> Staged:
    native = duckdb_encoding(source.encoding)
    if native is None:
        decoded = scratch / "decoded.jsonl"
        transcode_to_utf8(path, decoded, source.encoding)
        path, native = decoded, "utf-8"
    # One VARCHAR per physical line: \x01 cannot occur unescaped in valid JSON, so a line
    # holding one is garbled anyway (the reader rejects it as a second field).
    con.execute(
        f"""
        CREATE TEMP TABLE _read AS SELECT line FROM read_csv({literal(str(path))},
            columns = {{'line': 'VARCHAR'}}, header = false, auto_detect = false,
            delim = '\x01', quote = '', escape = '', encoding = {literal(native)},
            max_line_size = {MAX_LINE_BYTES},
            store_rejects = true, rejects_table = '_rej', rejects_scan = '_rej_scan')
        """
    )
    _collect_reader_rejects(con)
    _number_with_rejects(con, "_read")
    # Only whether each line is an object is kept: storing every line's key list cost more
    # than parsing the good lines once more for their keys (tickets.jsonl, medium: 1.5 s CPU
    # against 0.9 + 0.15 s).
    con.execute(
        """
        CREATE TEMP TABLE _lines AS
        SELECT _source_row, line,
               CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS ok
        FROM _stage WHERE trim(coalesce(line, '')) <> ''
        """
    )
    con.execute(
        """
        INSERT INTO _garbled
        SELECT _source_row, line,
               CASE WHEN json_valid(line) THEN 'a JSON value that is not an object'
                    ELSE 'unparseable JSON' END
        FROM _lines WHERE NOT ok
        """
    )
    keys = [
        row[0]
        for row in con.execute(
            """
            SELECT key FROM (
                SELECT unnest(keys) AS key, unnest(range(len(keys))) AS pos, _source_row
                -- CASE: DuckDB may evaluate the projection before the filter.
                FROM (SELECT CASE WHEN ok THEN json_keys(line) END AS keys, _source_row
                      FROM _lines WHERE ok)
            ) GROUP BY key ORDER BY min(_source_row), arg_min(pos, _source_row)
            """
        ).fetchall()
    ]
    con.execute("DROP VIEW _stage")
    paths = "[" + ", ".join(literal("$." + ident(k)) for k in keys) + "]"
    picks = "".join(f", v[{i}] AS {ident(k)}" for i, k in enumerate(keys, start=1))
    con.execute(
        f"""
        CREATE TEMP TABLE _stage AS
        SELECT _source_row{picks}
        FROM (SELECT _source_row, json_extract_string(line, {paths}) AS v FROM _lines WHERE ok)
        """
        if keys
        else "CREATE TEMP TABLE _stage AS SELECT _source_row FROM _lines WHERE ok"
    )
    return _counts(con, keys)


def _stage_parquet(con, path: Path, source: Source, scratch: Path) -> Staged:
    con.execute("CREATE TEMP TABLE _garbled (_source_row BIGINT, record VARCHAR, detail VARCHAR)")
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise FileProblem(f"not a readable Parquet file ({_first_line(exc)})") from None
    # Parquet is typed already: a view keeps the file's own types (validation casts only the
    # columns whose type differs from the contract's) and costs no copy.
    con.execute(
        f"""
        CREATE TEMP VIEW _stage AS
        SELECT (file_row_number + 1)::BIGINT AS _source_row, * EXCLUDE (file_row_number)
        FROM read_parquet({literal(str(path))}, file_row_number = true)
        """
    )
    staged = _counts(con, [row[0] for row in described])
    return dataclasses.replace(staged, types={row[0]: row[1] for row in described})


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _stage_xlsx(con, path: Path, source: Source, scratch: Path) -> Staged:
    from python_calamine import CalamineError, CalamineWorkbook

    con.execute("CREATE TEMP TABLE _garbled (_source_row BIGINT, record VARCHAR, detail VARCHAR)")
    try:
        book = CalamineWorkbook.from_path(str(path))
        if source.sheet is None:
            sheet = book.get_sheet_by_index(0)
        elif source.sheet in book.sheet_names:
            sheet = book.get_sheet_by_name(source.sheet)
        else:
            names = ", ".join(book.sheet_names)
            raise FileProblem(f"no sheet named {source.sheet!r} (sheets: {names})")
        # Row i of this list is sheet row i + 1, so data row i has _source_row i (header = 1).
        rows = sheet.to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise FileProblem(f"not a readable .xlsx workbook ({_first_line(exc)})") from None
    if not rows:
        raise FileProblem(f"sheet {sheet.name!r} is empty (no header row)")
    header, body = rows[0], rows[1:]
    width = max([len(header), *(len(r) for r in body)])
    names = [(_cell_text(h) or f"column{i}").strip() for i, h in enumerate(header, 1)]
    names += [f"column{i}" for i in range(len(names) + 1, width + 1)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FileProblem(f"column name(s) repeated in the header: {', '.join(repeated)}")
    # Handed to DuckDB as a CSV file: registering Arrow data or writing Parquet from Python
    # imports pandas, a second and a half for a 50-row sheet. Empty cells are blank = missing.
    staged = scratch / "sheet.csv"
    with staged.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for number, row in enumerate(body, start=1):
            values = [_cell_text(v) for v in row] + [None] * (width - len(row))
            if any(v is not None for v in values):
                writer.writerow([number, *values])
    spec = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in names)
    con.execute(
        f"""
        CREATE TEMP TABLE _stage AS SELECT * FROM read_csv({literal(str(staged))},
            columns = {{'_source_row': 'BIGINT', {spec}}}, header = false,
            auto_detect = false, delim = ',', quote = '"', escape = '"')
        """
    )
    return _counts(con, names)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _counts(con, columns: list[str]) -> Staged:
    rows = con.execute("SELECT count(*) FROM _stage").fetchone()[0]
    garbled = con.execute("SELECT count(*) FROM _garbled").fetchone()[0]
    return Staged(columns=tuple(columns), rows=rows, garbled=garbled)


_READERS = {
    "csv": _stage_csv,
    "jsonl": _stage_jsonl,
    "parquet": _stage_parquet,
    "xlsx": _stage_xlsx,
}


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, source: Source) -> Staged:
    """Stage `path` as `_stage` + `_garbled` (see module docstring). Raises FileProblem when the
    file as a whole is unusable."""
    _drop(con, "_stage", "_stage_t", "_read", "_numbers", "_lines", "_garbled", "_rej", "_rej_scan")
    # Record numbering relies on a CTAS keeping file order (see module docstring); the loader
    # turns this off after staging.
    con.execute("SET preserve_insertion_order = true")
    with tempfile.TemporaryDirectory(prefix="crm-ingest-") as scratch:
        try:
            return _READERS[source.format](con, path, source, Path(scratch))
        except duckdb.Error as exc:
            raise FileProblem(f"cannot be read as {source.format} ({_first_line(exc)})") from None
