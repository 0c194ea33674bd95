"""Reads the suite files under quality/suites/ into checks the runner hands to GX.

A suite file names one data asset (a table, or a query when the check needs a derived column)
and lists its expectations: GX expectation type, kwargs, severity and a description an auditor
can read. A raw-layer suite may also say `contract: <entity>`: its contract checks (required,
accepted values, bounds, email format, not-future, natural key, references) are then derived
from ingestion/contracts.yml by the rules in `_contract_rules.yml`, so they are never
written twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from crm.errors import UserError
from crm.settings import DBT_PROJECT_DIR
from ingestion.contracts import Contracts, EntityContract, load_contracts
from ingestion.validation import EMAIL_PATTERN

SUITES_DIR = Path(__file__).with_name("suites")
RULES_FILE = "_contract_rules.yml"
SEVERITIES = ("critical", "warning")
CUSTOM_SQL = "unexpected_rows_expectation"
# Single-column uniqueness: distinct ÷ non-null values must be 1. The same pass/fail as
# expect_column_values_to_be_unique, but GX computes it with count(distinct) inside the
# table's one aggregate query instead of a window over the whole table; a failed check gets its
# duplicate count and sample from the stock expectation afterwards (quality/samples.py).
UNIQUE_COLUMN = "expect_column_proportion_of_unique_values_to_be_between"
# Ingestion's own email shape, so the gate and the loader never disagree. Raw keeps the value as
# written and ingestion trims before matching, so surrounding blanks are allowed here too.
EMAIL_REGEX = r"^\s*" + EMAIL_PATTERN.removeprefix("^").removesuffix("$") + r"\s*$"
# What a check needs to see (quality/scope.py): `rows` holds for a table when it holds for each
# of its rows (not null, sets, bounds, formats, a row filter, a reference to an append-only
# parent); `keys` is uniqueness of the natural key; `table` needs the whole relation
# (thresholds over all rows, counts, reconciliation).
SCOPES = ("rows", "keys", "table")
# Uniqueness expectations a suite file may write; without `mostly` (and, for the proportion,
# with a minimum of exactly 1) each is a `keys` check.
_KEY_TYPES = (
    UNIQUE_COLUMN,
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
)
# GX's per-row column expectations; with `mostly` they become a threshold over the whole table.
_ROW_TYPES = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
)


@dataclass(frozen=True)
class Check:
    """One expectation of a suite, with the identity it keeps across runs."""

    check_id: str
    expectation_type: str
    kwargs: dict[str, Any]
    severity: str
    description: str
    origin: str  # "contract" (derived) or "suite" (written in the suite file)
    scope: str = "table"  # one of SCOPES
    # Kwargs that follow the validation clock (the not-future bound). A later bound admits
    # every row an earlier one did, so they are not part of what a passed load proved.
    clock_kwargs: tuple[str, ...] = ()

    @property
    def column(self) -> str | None:
        if "column" in self.kwargs:
            return self.kwargs["column"]
        if "column_list" in self.kwargs:
            return ", ".join(self.kwargs["column_list"])
        return None


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    layer: str
    table: str | None
    query: str | None
    checks: tuple[Check, ...] = field(default=())
    entity: str | None = None  # the contract of a raw table: append-only, rows carry _load_id
    # A marts table dbt writes incrementally: the column stamping when dbt last wrote each row
    # (`_dbt_updated_at`), so per-row and key checks can see the rows written since a passed run.
    written_at: str | None = None

    @property
    def relation(self) -> str:
        """The asset as SQL: the table name, or the query in parentheses."""
        return self.table if self.table else f"({self.query})"


def _fail(path: Path, message: str) -> UserError:
    return UserError(f"{path}: {message}")


def _template(text: str, **values: Any) -> str:
    return text.format(**values).strip()


def _future_bound(now: datetime, tolerance: str) -> str:
    amount, unit = tolerance.split()
    unit = unit.rstrip("s")
    delta = {"day": timedelta(days=1), "hour": timedelta(hours=1)}[unit] * int(amount)
    return (now + delta).replace(microsecond=0).isoformat(sep=" ")


def derive_contract_checks(
    suite_name: str, entity: EntityContract, contracts: Contracts, rules: dict, now: datetime
) -> list[Check]:
    """The checks a contract implies for its raw table, in the rules' wording and severity."""
    checks: list[Check] = []

    def add(
        kind: str,
        check_id: str,
        etype: str,
        kwargs: dict,
        severity: str | None = None,
        **words: Any,
    ) -> None:
        rule = rules[kind]
        checks.append(
            Check(
                check_id=f"{suite_name}.{check_id}",
                expectation_type=etype,
                kwargs=kwargs,
                severity=severity or rule["severity"],
                description=_template(rule["description"], entity=entity.name, **words),
                origin="contract",
                # Raw is append-only and a reference points at an append-only parent, so
                # every contract check but the key holds row by row.
                scope="keys" if kind == "natural_key" else "rows",
                clock_kwargs=("max_value",) if kind == "not_future" else (),
            )
        )

    for col in entity.columns:
        if col.required:
            add(
                "required",
                f"{col.name}.not_null",
                "expect_column_values_to_not_be_null",
                {"column": col.name},
                column=col.name,
            )
        if col.accepted_values is not None:
            rule = rules["accepted_values"]
            severity = "critical" if col.name in rule.get("critical_columns", []) else None
            add(
                "accepted_values",
                f"{col.name}.accepted_values",
                "expect_column_values_to_be_in_set",
                {"column": col.name, "value_set": list(col.accepted_values)},
                severity,
                column=col.name,
                values=", ".join(col.accepted_values),
            )
        if col.min is not None or col.max is not None:
            kwargs = {"column": col.name}
            if col.min is not None:
                kwargs["min_value"] = col.min
            if col.max is not None:
                kwargs["max_value"] = col.max
            bounds = " and ".join(
                part
                for part in (
                    f"≥ {col.min}" if col.min is not None else "",
                    f"≤ {col.max}" if col.max is not None else "",
                )
                if part
            )
            add(
                "bounds",
                f"{col.name}.bounds",
                "expect_column_values_to_be_between",
                kwargs,
                column=col.name,
                bounds=bounds,
            )
        if col.format == "email":
            add(
                "email_format",
                f"{col.name}.format",
                "expect_column_values_to_match_regex",
                {"column": col.name, "regex": EMAIL_REGEX},
                column=col.name,
            )
        if col.not_future:
            bound = _future_bound(now, contracts.future_tolerance)
            add(
                "not_future",
                f"{col.name}.not_future",
                "expect_column_values_to_be_between",
                {"column": col.name, "max_value": bound},
                column=col.name,
                tolerance=contracts.future_tolerance,
            )

    key = list(entity.natural_key)
    if entity.version_column:
        key.append(entity.version_column)
    if len(key) == 1:
        add(
            "natural_key",
            "natural_key.unique",
            UNIQUE_COLUMN,
            {"column": key[0], "min_value": 1},
            key=key[0],
        )
    else:
        add(
            "natural_key",
            "natural_key.unique",
            "expect_compound_columns_to_be_unique",
            {"column_list": key},
            key=", ".join(key),
        )

    for ref in entity.references:
        join = " and ".join(
            f"parent.{to} = child.{col}" for col, to in zip(ref.columns, ref.to, strict=True)
        )
        present = " and ".join(f"child.{col} is not null" for col in ref.columns)
        query = (
            # GX substitutes {batch} with an already aliased subquery: wrap it to name it.
            # A missing key is the required check's finding, not an orphan (SQL FK semantics).
            # An anti-join written as a left join: DuckDB plans `not exists` over GX's nested
            # batch by materialising every column of the batch, many times slower over a
            # whole table. A matched parent's key equals the child's, so it is not null.
            f"select child.* from (select * from {{batch}}) as child "
            f"left join raw.{ref.entity} as parent on {join} "
            f"where {present} and parent.{ref.to[0]} is null"
        )
        add(
            "references",
            f"references.{ref.entity}",
            CUSTOM_SQL,
            {"unexpected_rows_query": query},
            parent=ref.entity,
            columns=", ".join(ref.columns),
        )
    return checks


_VAR = re.compile(r"\$\{var:([a-z_]+)\}")


@cache
def dbt_vars() -> dict[str, Any]:
    """The dbt project's vars: reporting currency and time zone have one definition there."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return project.get("vars", {})


def _substitute(path: Path, value: Any) -> Any:
    """Replace `${var:name}` in string kwargs with the dbt var `name`."""
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match) -> str:
        name = match.group(1)
        if name not in dbt_vars():
            raise _fail(path, f"unknown dbt var {name!r} in {value!r}")
        return str(dbt_vars()[name])

    return _VAR.sub(lookup, value)


def _suite_check(path: Path, suite_name: str, spec: dict) -> Check:
    for key in ("check", "type", "severity", "description"):
        if key not in spec:
            raise _fail(path, f"an expectation lacks {key!r}: {spec}")
    if spec["severity"] not in SEVERITIES:
        raise _fail(path, f"{spec['check']}: severity must be one of {SEVERITIES}")
    kwargs = {k: _substitute(path, v) for k, v in spec.get("kwargs", {}).items()}
    return Check(
        check_id=f"{suite_name}.{spec['check']}",
        expectation_type=spec["type"],
        kwargs=kwargs,
        severity=spec["severity"],
        description=" ".join(spec["description"].split()),
        origin="suite",
        scope=_scope(path, spec, kwargs),
    )


def _scope(path: Path, spec: dict, kwargs: dict) -> str:
    """A column expectation without `mostly` is per row, a uniqueness one is a key; a
    custom-SQL check is per row only when its file says `scope: rows` (its query filters the
    rows of {batch} one by one)."""
    if spec["type"] == CUSTOM_SQL:
        scope = spec.get("scope", "table")
        if scope not in ("rows", "table"):
            raise _fail(path, f"{spec['check']}: scope must be rows or table")
        return scope
    if "scope" in spec:
        raise _fail(path, f"{spec['check']}: scope is only for {CUSTOM_SQL}")
    if "mostly" in kwargs:
        return "table"
    if spec["type"] in _KEY_TYPES:
        whole_proportion = kwargs.get("min_value") == 1 and kwargs.get("max_value", 1) == 1
        return "keys" if spec["type"] != UNIQUE_COLUMN or whole_proportion else "table"
    return "rows" if spec["type"] in _ROW_TYPES else "table"


def load_suite(path: Path, rules: dict, contracts: Contracts, now: datetime) -> Suite:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML ({exc.__class__.__name__})") from exc
    name = doc.get("suite") or path.stem
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise _fail(path, f"suite name {name!r} must be lower_snake_case")
    asset = doc.get("asset", {})
    if bool(asset.get("table")) == bool(asset.get("query")):
        raise _fail(path, "asset needs exactly one of 'table' or 'query'")
    checks: list[Check] = []
    if doc.get("contract"):
        entity = doc["contract"]
        if entity not in contracts.entities:
            raise _fail(path, f"contract {entity!r} is not in ingestion/contracts.yml")
        checks += derive_contract_checks(name, contracts[entity], contracts, rules, now)
    checks += [_suite_check(path, name, spec) for spec in doc.get("expectations", [])]
    written_at = doc.get("written_at")
    if written_at and (doc.get("layer") != "marts" or not asset.get("table")):
        raise _fail(path, "written_at is for a marts table (raw rows carry their load)")
    ids = [c.check_id for c in checks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _fail(path, f"check ids repeat: {', '.join(duplicates)}")
    return Suite(
        name=name,
        description=" ".join(doc.get("description", "").split()),
        layer=doc.get("layer", "raw"),
        table=asset.get("table"),
        query=asset.get("query"),
        checks=tuple(checks),
        entity=doc.get("contract") if asset.get("table") else None,
        written_at=written_at,
    )


def load_suites(
    suites_dir: Path = SUITES_DIR, now: datetime | None = None, layers: tuple[str, ...] = ()
) -> list[Suite]:
    """Every suite file in `suites_dir` (files starting with `_` hold shared rules)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rules = yaml.safe_load((suites_dir / RULES_FILE).read_text(encoding="utf-8"))
    contracts = load_contracts()
    suites = [
        load_suite(path, rules, contracts, now)
        for path in sorted(suites_dir.glob("*.yml"))
        if not path.name.startswith("_")
    ]
    return [s for s in suites if not layers or s.layer in layers]
