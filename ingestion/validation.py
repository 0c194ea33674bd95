"""Contract checks as set-based SQL over the staged file.

`type_and_check` turns `_stage` (text, or Parquet's own types) into `_typed` (contract types)
with `_reason` set to the first failed row-level check; `find_late_rejects` then lists in
`_late`, among the rows still valid, repeats and records whose parent is missing. Neither
rewrites `_typed`: an UPDATE of a few rows of a large temp table cost more than computing the
small list once. A reason reads `<code>: <detail>` with the codes of interfaces.md §A.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import duckdb

from ingestion.contracts import ColumnContract, Contracts, EntityContract
from ingestion.mapping import Source
from ingestion.readers import FileProblem
from ingestion.sqltext import ident, literal, literal_list

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
_NUMERIC = ("integer", "bigint", "decimal", "double")


@dataclass(frozen=True)
class ColumnPlan:
    """Where each contract column comes from in one export file."""

    sources: dict[str, str]  # contract column -> SQL text expression over _stage
    extra: tuple[str, ...]  # export columns kept in _extra (schema drift)
    missing: tuple[str, ...]  # optional contract columns absent from the export (NULL)
    # contract column -> export column read as is: the file's type is the contract's already
    native: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # export column -> type, if not text

    def text(self, column: str, alias: str = "") -> str:
        """SQL for the text of export column `column` (as the file wrote it, for Parquet as
        DuckDB prints the value)."""
        name = f"{alias}.{ident(column)}" if alias else ident(column)
        if self.types.get(column, "VARCHAR") == "VARCHAR":
            return name
        return f"CAST({name} AS VARCHAR)"

    def record(self, columns: tuple[str, ...], alias: str) -> str:
        """SQL for a reject's record: a JSON object of the export's columns and text values."""
        if not columns:
            return "'{}'"
        pairs = ", ".join(f"{literal(c)}, {self.text(c, alias)}" for c in columns)
        return f"CAST(json_object({pairs}) AS VARCHAR)"


def plan_columns(
    contract: EntityContract,
    source: Source,
    columns: tuple[str, ...],
    require: bool = True,
    types: dict[str, str] | None = None,
) -> ColumnPlan:
    """Match export columns to contract columns: explicit renames, then same name (exact, then
    ignoring case and surrounding blanks), then mapping constants; the rest is drift.
    A required column nobody provides fails the file unless `require` is false. `types` are
    the export's column types where the file has them (Parquet)."""
    shell = ColumnPlan(sources={}, extra=(), missing=(), types=dict(types or {}))
    exprs: dict[str, str] = {}
    direct: dict[str, str] = {}  # contract column -> export column taken unchanged
    used: set[str] = set()
    for export, target in source.columns.items():
        if export in columns and target not in exprs:
            exprs[target], direct[target] = shell.text(export), export
            used.add(export)
    for target, (parts, separator) in source.combine.items():
        present = [p for p in parts if p in columns]
        if present and target not in exprs:
            pieces = ", ".join(f"nullif(trim({shell.text(p)}), '')" for p in present)
            exprs[target] = f"concat_ws({literal(separator)}, {pieces})"
            used.update(present)
    loose = {c.strip().lower(): c for c in columns if c not in used}
    for name in contract.column_names:
        if name in exprs:
            continue
        match = name if name in columns and name not in used else loose.get(name.lower())
        if match is not None and match not in used:
            exprs[name], direct[name] = shell.text(match), match
            used.add(match)
        elif name in source.constants:
            exprs[name] = literal(source.constants[name])
    # A constant also fills the blanks of a column the export carries but leaves empty.
    for name, value in source.constants.items():
        if name in exprs and not exprs[name].startswith("'"):
            exprs[name] = f"coalesce(nullif(trim({exprs[name]}), ''), {literal(value)})"
            direct.pop(name, None)
    absent = [c for c in contract.column_names if c not in exprs]
    required = [c for c in absent if contract.column(c).required]
    if required and require:
        raise FileProblem(f"missing required column(s) {', '.join(required)}")
    native = {
        name: export
        for name, export in direct.items()
        if _native_sql(contract.column(name), shell.types.get(export), source, "x") is not None
    }
    return dataclasses.replace(
        shell,
        sources=exprs,
        extra=tuple(c for c in columns if c not in used),
        missing=tuple(absent),
        native=native,
    )


def _native_sql(
    col: ColumnContract, file_type: str | None, source: Source, name: str
) -> str | None:
    """SQL giving `col` from a value the file already holds as `file_type`, or None when the
    value has to go through its text like any CSV value. Text would round-trip to the same
    value, so skipping it changes nothing but the time (a Parquet file of 2 M lines spent a
    quarter of its load printing and re-parsing numbers)."""
    if file_type is None or col.type == "varchar":
        return None  # text already; blanks still have to become NULL
    if file_type == col.duckdb_type:
        # A naive timestamp means local time of the source's zone, which text typing applies.
        return name if col.type != "timestamp" or source.timezone == "UTC" else None
    if col.type == "timestamp" and file_type == "TIMESTAMP WITH TIME ZONE":
        return f"make_timestamp(epoch_us({name}))"  # the instant, as naive UTC
    return None


def _cast(text: str, type_: str) -> str:
    # Trimming every value costs more than the cast; retry trimmed only where the cast failed
    # (coalesce evaluates its second argument only for those rows).
    return f"coalesce(try_cast({text} AS {type_}), try_cast(trim({text}) AS {type_}))"


def _typed_expr(col: ColumnContract, text: str, source: Source) -> str:
    """SQL turning the (blank-as-NULL) text of `col` into its contract type, NULL if it does
    not parse. Naive timestamps are read in the source's zone (the session time zone)."""
    t = f"trim({text})"
    if col.type == "varchar":
        return text
    if col.type in ("integer", "bigint", "double", "decimal"):
        return _cast(text, col.duckdb_type)
    if col.type == "boolean":
        return (
            f"CASE WHEN lower({t}) IN {_in_list(source.true_values)} THEN true "
            f"WHEN lower({t}) IN {_in_list(source.false_values)} THEN false END"
        )
    if col.type == "date":
        iso = f"coalesce({_cast(text, 'DATE')}, {_cast(text, 'TIMESTAMP')}::DATE)"
        if source.date_formats:
            return f"coalesce(try_strptime({t}, {literal_list(source.date_formats)})::DATE, {iso})"
        return iso
    if col.type == "timestamp":
        iso = _cast(text, "TIMESTAMPTZ")
        if source.timestamp_formats:
            fmts = literal_list(source.timestamp_formats)
            iso = f"coalesce(try_strptime({t}, {fmts})::TIMESTAMPTZ, {iso})"
        # The instant as a naive UTC timestamp; plain arithmetic, twice as fast as timezone().
        return f"make_timestamp(epoch_us({iso}))"
    raise ValueError(f"no SQL for contract type {col.type!r}")


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def _quoted(text: str) -> str:
    return f"'''' || left({text}, 200) || ''''"


def _range_reasons(col: ColumnContract, typed: str) -> list[str]:
    name = ident(col.name)
    if col.min is None and col.max is None:
        return []
    value = f"CAST({name} AS VARCHAR)"
    if col.range_code:
        low = "-∞" if col.min is None else f"{col.min:g}"
        high = "∞" if col.max is None else f"{col.max:g}"
        bounds = " OR ".join(
            [f"{name} < {col.min}"] * (col.min is not None)
            + [f"{name} > {col.max}"] * (col.max is not None)
        )
        message = f"'{col.range_code}: {col.name} ' || {value} || ' is outside {low}–{high}'"
        return [f"CASE WHEN {bounds} THEN {message} END"]
    reasons = []
    if col.min is not None:
        below = f"' is below {col.min:g}'"
        code = (
            f"CASE WHEN {name} < 0 THEN 'negative_amount' ELSE 'out_of_range' END"
            if col.min >= 0
            else "'out_of_range'"
        )
        reasons.append(
            f"CASE WHEN {name} < {col.min} THEN {code} || ': {col.name} ' || {value} || {below} END"
        )
    if col.max is not None:
        reasons.append(
            f"CASE WHEN {name} > {col.max} THEN "
            f"'out_of_range: {col.name} ' || {value} || ' is above {col.max:g}' END"
        )
    return reasons


def type_and_check(
    con: duckdb.DuckDBPyConnection,
    contract: EntityContract,
    source: Source,
    plan: ColumnPlan,
    load_time: dt.datetime,
    future_tolerance: str,
) -> None:
    """Create `_typed`: contract-typed columns, `_extra`, and `_reason` (NULL = row is valid)."""
    con.execute(f"SET TimeZone = {literal(source.timezone)}")
    texts = []
    for col in contract.columns:
        expr = plan.sources.get(col.name, "NULL")
        if col.name in plan.native:  # a typed value: NULL is its only way to be missing
            texts.append(f"{ident(plan.native[col.name])} AS {ident(col.name)}")
            continue
        # Blank means missing; only values starting with whitespace need the costly trim.
        blank = f"{expr} = '' OR (ascii({expr}) IN (32, 9, 10, 13) AND trim({expr}) = '')"
        texts.append(f"CASE WHEN {blank} THEN NULL ELSE {expr} END AS {ident(col.name)}")
    extra = (
        "json_object(" + ", ".join(f"{literal(c)}, {plan.text(c)}" for c in plan.extra) + ")"
        if plan.extra
        else "CAST(NULL AS JSON)"
    )
    typed = []
    for col in contract.columns:
        name = ident(col.name)
        native = plan.native.get(col.name)
        expr = (
            _native_sql(col, plan.types[native], source, name)
            if native is not None
            else _typed_expr(col, name, source)
        )
        typed.append(
            f"CAST({expr} AS {col.duckdb_type}) AS {name}, {name} AS {ident('__text_' + col.name)}"
        )
    limit = f"TIMESTAMP '{load_time:%Y-%m-%d %H:%M:%S.%f}' + INTERVAL {literal(future_tolerance)}"

    reasons: list[str] = []
    for col in contract.columns:
        if col.required:
            reasons.append(
                f"CASE WHEN {ident('__text_' + col.name)} IS NULL "
                f"THEN 'missing_required: {col.name} is missing' END"
            )
    for col in contract.columns:
        if col.type == "varchar" or col.name in plan.native:  # native values always parse
            continue
        text, name = ident("__text_" + col.name), ident(col.name)
        if col.type in ("date", "timestamp"):
            message = f"'unparseable_date: {col.name} ' || {_quoted(text)}"
        else:
            message = f"'type_error: {col.name} ' || {_quoted(text)} || ' is not a {col.type}'"
        reasons.append(f"CASE WHEN {text} IS NOT NULL AND {name} IS NULL THEN {message} END")
    for col in contract.columns:
        if col.format == "email":
            name = ident(col.name)
            reasons.append(
                f"CASE WHEN {name} IS NOT NULL AND NOT regexp_full_match(trim({name}), "
                f"{literal(EMAIL_PATTERN)}) THEN 'malformed_email: {col.name} ' || {_quoted(name)}"
                " END"
            )
    for col in contract.columns:
        if col.type in _NUMERIC:
            reasons.extend(_range_reasons(col, ident(col.name)))
    for col in contract.columns:
        if col.not_future:
            name = ident(col.name)
            reasons.append(
                f"CASE WHEN {name} > {limit} THEN 'future_date: {col.name} ' || "
                f"strftime({name}, '%Y-%m-%d %H:%M:%S') || ' UTC is after the load time + "
                f"{future_tolerance}' END"
            )
    reason = f"coalesce({', '.join(reasons)})" if reasons else "CAST(NULL AS VARCHAR)"
    cols = ", ".join(ident(c) for c in contract.column_names)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _typed AS
        WITH texts AS (
            SELECT _source_row, {", ".join(texts)}, {extra} AS _extra FROM _stage
        ),
        typed AS (
            SELECT _source_row, {", ".join(typed)}, _extra FROM texts
        )
        SELECT _source_row, {cols}, _extra, {reason} AS _reason FROM typed
        """
    )
    con.execute("SET TimeZone = 'UTC'")


def _key_text(contract: EntityContract, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    parts = [
        f"'{c}=' || coalesce(CAST({prefix}{ident(c)} AS VARCHAR), 'NULL')"
        for c in contract.natural_key
    ]
    return " || ', ' || ".join(parts)


def find_late_rejects(
    con: duckdb.DuckDBPyConnection, contract: EntityContract, contracts: Contracts
) -> int:
    """Create `_late` (`_source_row`, `_reason`): the rows of `_typed` valid so far that repeat
    a record or miss their parent, each with the first of these checks it fails. Returns how
    many. One statement: every check looks at the rows valid after the row-level checks, and
    taking each row's first failure by check order gives what checking one after the other
    would."""
    checks = [*_repeats(contract), *_orphans(contract, contracts)]
    union = "\nUNION ALL\n".join(
        f"SELECT _source_row, {i} AS _check, _reason FROM ({sql})" for i, sql in enumerate(checks)
    )
    if not checks:
        union = "SELECT NULL::BIGINT AS _source_row, 0 AS _check, NULL::VARCHAR AS _reason LIMIT 0"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _late AS
        SELECT _source_row, arg_min(_reason, _check) AS _reason FROM ({union}) GROUP BY 1
        """
    )
    return con.execute("SELECT count(*) FROM _late").fetchone()[0]


def _repeats(contract: EntityContract) -> list[str]:
    """Repeats among valid rows: of a whole earlier record (duplicate_row) or of an earlier
    record's key and version with other content (duplicate_key), earlier meaning earlier in
    this file or already in raw. A later version of a key is history, not a repeat."""
    everything = ", ".join([*map(ident, contract.column_names), "_extra"])
    key_cols = [*contract.natural_key]
    if contract.version_column:
        key_cols.append(contract.version_column)
    key = ", ".join(map(ident, key_cols))
    # Both kinds of repeat share key and version, and such keys are rare: window over those
    # only. Grouping on a 64-bit hash is cheaper than on the strings; a collision merely adds a
    # candidate, which the exact windows then sort out.
    in_file = f"""
        SELECT _source_row,
            CASE WHEN rn_row > 1 THEN 'duplicate_row: repeats source row ' || first_row
                 ELSE 'duplicate_key: ' || key_text || ' repeats source row '
                      || first_key_row || ' with different content' END AS _reason
        FROM (
            SELECT _source_row, {_key_text(contract)} AS key_text,
                row_number() OVER (PARTITION BY {everything} ORDER BY _source_row) AS rn_row,
                min(_source_row) OVER (PARTITION BY {everything}) AS first_row,
                row_number() OVER (PARTITION BY {key} ORDER BY _source_row) AS rn_key,
                min(_source_row) OVER (PARTITION BY {key}) AS first_key_row
            FROM _typed
            WHERE _reason IS NULL AND hash({key}) IN (
                SELECT hash({key}) AS h FROM _typed WHERE _reason IS NULL
                GROUP BY h HAVING count(*) > 1
            )
        ) WHERE rn_row > 1 OR rn_key > 1
    """
    same = " AND ".join(
        f"t.{c} IS NOT DISTINCT FROM r.{c}" for c in [*map(ident, contract.column_names), "_extra"]
    )
    joined = " AND ".join(f"t.{c} = r.{c}" for c in map(ident, key_cols))
    already = f"""
        SELECT t._source_row,
            CASE WHEN bool_or({same})
                THEN 'duplicate_row: repeats an already-loaded record ('
                     || min(r._source_file || ' row ' || r._source_row) || ')'
                ELSE 'duplicate_key: ' || any_value({_key_text(contract, "t")})
                     || ' already loaded with different content ('
                     || min(r._source_file || ' row ' || r._source_row) || ')' END AS _reason
        FROM _typed AS t JOIN raw.{ident(contract.name)} AS r ON {joined}
        WHERE t._reason IS NULL
        GROUP BY t._source_row
    """
    return [in_file, already]


def _orphans(contract: EntityContract, contracts: Contracts) -> list[str]:
    """Valid rows whose referenced record is not in raw (which already holds every parent
    loaded so far, this run's included: entities load in contract order). References whose
    columns are all empty are not checked."""
    checks = []
    for ref in contract.references:
        parent = contracts[ref.entity]
        cols = [ident(c) for c in ref.columns]
        match = " AND ".join(f"p.{ident(to)} = t.{c}" for to, c in zip(ref.to, cols, strict=True))
        present = " OR ".join(f"t.{c} IS NOT NULL" for c in cols)
        shown = " || ', ' || ".join(f"coalesce(t.{c}, 'NULL')" for c in cols)
        names = ", ".join(ref.columns)
        checks.append(
            f"""
            SELECT t._source_row,
                'orphan_reference: ({names}) = (' || {shown} || ') not found in '
                || {literal(parent.name)} AS _reason
            FROM _typed AS t
            WHERE t._reason IS NULL AND ({present})
              AND NOT EXISTS (SELECT 1 FROM raw.{ident(parent.name)} AS p WHERE {match})
            """
        )
    return checks
