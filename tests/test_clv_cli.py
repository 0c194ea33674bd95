"""`crm clv fit`: JSON on CSV and Parquet, one-line errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from crm.cli import main

CDNOW_TX = Path(__file__).parent / "fixtures" / "cdnow" / "cdnow_sample_transactions.csv"
ARGS = ["--customer-col", "customer_id", "--date-col", "date", "--amount-col", "sales"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_clv_fit_prints_published_cdnow_parameters_as_json(fmt, tmp_path, capsys):
    path = CDNOW_TX
    if fmt == "parquet":
        path = tmp_path / "cdnow.parquet"
        pd.read_csv(CDNOW_TX, parse_dates=["date"]).to_parquet(path)
    code, out, err = run(["clv", "fit", str(path), *ARGS, "--cutoff", "1997-09-30"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"bgnbd", "gamma_gamma", "diagnostics"}
    assert result["bgnbd"]["r"] == pytest.approx(0.243, rel=0.01)
    assert result["bgnbd"]["alpha"] == pytest.approx(4.414, rel=0.01)
    assert result["gamma_gamma"]["q"] == pytest.approx(3.74, rel=0.01)
    diagnostics = result["diagnostics"]
    assert diagnostics["n_customers"] == 2357 and diagnostics["n_repeat_customers"] == 946
    assert diagnostics["cutoff"] == "1997-09-30" and diagnostics["time_unit"] == "week"
    assert diagnostics["bgnbd"]["converged"] is True


def test_clv_fit_in_days_scales_alpha_and_defaults_to_the_last_date(capsys):
    code, out, _ = run(["clv", "fit", str(CDNOW_TX), *ARGS, "--time-unit", "day"], capsys)
    result = json.loads(out)
    assert code == 0
    assert result["diagnostics"]["cutoff"] == "1998-06-30"
    assert result["diagnostics"]["time_unit"] == "day"
    # Same data in days: the purchase-rate scale alpha is about 7x the weekly one.
    code, out, _ = run(["clv", "fit", str(CDNOW_TX), *ARGS, "--time-unit", "week"], capsys)
    weekly = json.loads(out)
    assert result["bgnbd"]["alpha"] / weekly["bgnbd"]["alpha"] == pytest.approx(7.0, rel=0.05)


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tx.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "argv_extra", "message"),
    [
        (None, [], "no such file"),
        ("customer_id,day,sales\n1,2024-01-01,3\n", [], "missing column(s) date"),
        ("customer_id,date,sales\n1,2024-01-01,3\n2,31/02/2024x,4\n", [], "unparseable date"),
        ("customer_id,date,sales\n1,2024-01-01,abc\n", [], "non-numeric amount"),
        ("customer_id,date,sales\n1,2024-01-01,3\n", ["--cutoff", "yesterdayish"], "--cutoff"),
        ("customer_id,date,sales\n1,2024-01-01,3\n", ["--cutoff", "2023-01-01"], "cannot fit"),
    ],
)
def test_clv_fit_bad_input_is_one_line_error(tmp_path, capsys, content, argv_extra, message):
    path = tmp_path / "missing.csv" if content is None else write_csv(tmp_path, content)
    code, out, err = run(["clv", "fit", str(path), *ARGS, *argv_extra], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("crm clv: error: ")
    assert message in err
    if content is not None and "--cutoff" not in argv_extra:
        assert str(path) in err
