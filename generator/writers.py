"""Write a FileFrame in its export format: CSV (any encoding, BOM), JSON Lines, Parquet, XLSX.
Text formats are assembled as whole lines with pyarrow and written from one buffer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generator.frames import BOOL, DATE, INT, MONEY, STR, TS, FileFrame
from generator.text import concat

QUOTE_TRIGGERS = ',"\n\r'


CHUNK_ROWS = 1_000_000  # text formats are assembled and written this many records at a time


def write(frame: FileFrame, out_dir: Path) -> Path:
    path = out_dir / frame.name
    if frame.fmt == "csv":
        _write_lines(path, frame, _csv_lines, header=",".join(frame.columns))
    elif frame.fmt == "jsonl":
        _write_lines(path, frame, _json_lines, header=None)
    elif frame.fmt == "parquet":
        _write_parquet(path, frame)
    elif frame.fmt == "xlsx":
        _write_xlsx(path, frame)
    else:
        raise ValueError(frame.fmt)
    return path


def _contains(col: pa.Array, chars: str) -> pa.Array:
    hit = pc.match_substring(col, chars[0])
    for ch in chars[1:]:
        hit = pc.or_(hit, pc.match_substring(col, ch))
    return hit


def _csv_lines(frame: FileFrame, columns: dict[str, pa.Array]) -> pa.Array:
    cells = []
    for name, col in columns.items():
        if frame.kinds[name] == STR:
            needs = _contains(col, QUOTE_TRIGGERS)
            if pc.any(needs).as_py():
                quoted = concat('"', pc.replace_substring(col, '"', '""'), '"')
                col = pc.if_else(needs, quoted, col)
        cells.append(col)
    return pc.binary_join_element_wise(*cells, ",", null_handling="replace", null_replacement="")


def _json_lines(frame: FileFrame, columns: dict[str, pa.Array]) -> pa.Array:
    parts: list[pa.Array | str] = []
    for i, (name, col) in enumerate(columns.items()):
        kind = frame.kinds[name]
        if kind in (INT, BOOL):
            # A value that is not a number (a planted fault) is written as a string.
            numeric = pc.match_substring_regex(col, r"^-?\d+$|^true$|^false$")
            literal = pc.if_else(numeric, col, concat('"', col, '"'))
        else:
            if pc.any(_contains(col, '"\\')).as_py():
                col = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
            literal = concat('"', col, '"')
        literal = pc.fill_null(literal, "null")
        parts += [("{" if i == 0 else ",") + f'"{name}":', literal]
    parts.append("}")
    return concat(*parts)


def _garble(line: str, fmt: str) -> str:
    """Cut a record off part-way, as a crashed export or a bad copy leaves it."""
    if fmt == "csv":
        fields = line.split(",")
        keep = max(1, len(fields) // 2 - 1)
        cut = ",".join(fields[:keep])
        return cut.replace('"', "") + "," + fields[keep][: len(fields[keep]) // 2].replace('"', "")
    return line[: max(2, len(line) // 2)]


def _write_lines(path: Path, frame: FileFrame, build, header: str | None) -> None:
    """Assemble and write the records chunk by chunk (bounded memory at large scales)."""
    garbled = np.array(sorted(frame.garbled), dtype=np.int64)
    with path.open("wb") as fh:
        if frame.encoding == "utf-8-sig":
            fh.write(b"\xef\xbb\xbf")
        if header is not None:
            fh.write((header + "\n").encode(_codec(frame)))
        for lo in range(0, frame.rows, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, frame.rows)
            lines = build(frame, {k: v.slice(lo, hi - lo) for k, v in frame.columns.items()})
            here = garbled[(garbled >= lo) & (garbled < hi)] - lo
            if len(here):
                mask = np.zeros(len(lines), dtype=bool)
                mask[here] = True
                bad = [_garble(lines[int(r)].as_py(), frame.fmt) for r in here]
                lines = pc.replace_with_mask(lines, pa.array(mask), pa.array(bad, pa.string()))
            lines = pa.concat_arrays([concat(lines, "\n")])
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
            body = memoryview(lines.buffers()[2])[offsets[0] : offsets[len(lines)]]
            if _codec(frame) == "utf-8":
                fh.write(body)
            else:
                fh.write(bytes(body).decode("utf-8").encode(frame.encoding))


def _codec(frame: FileFrame) -> str:
    return "utf-8" if frame.encoding in ("utf-8", "utf-8-sig") else frame.encoding


def _write_parquet(path: Path, frame: FileFrame) -> None:
    arrays = {}
    for name, col in frame.columns.items():
        kind = frame.kinds[name]
        if kind == INT:
            col = col.cast(pa.int32())
        elif kind == MONEY:
            col = col.cast(pa.decimal128(18, 2))
        arrays[name] = col
    pq.write_table(pa.table(arrays), path, compression="zstd")


def _write_xlsx(path: Path, frame: FileFrame) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    # Fixed document properties keep the file byte-for-byte reproducible.
    wb.set_properties({"created": datetime(2000, 1, 1), "author": "crm generate"})
    ws = wb.add_worksheet("campaigns")
    fmt_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    fmt_ts = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    fmt_money = wb.add_format({"num_format": "#,##0.00"})
    names = list(frame.columns)
    for j, name in enumerate(names):
        ws.write_string(0, j, name)
    columns = [frame.columns[n].to_pylist() for n in names]
    for i in range(frame.rows):
        for j, name in enumerate(names):
            value = columns[j][i]
            if value is None:
                continue
            kind = frame.kinds[name]
            if kind == MONEY:
                ws.write_number(i + 1, j, float(value), fmt_money)
            elif kind in (DATE, TS):
                parsed = _parse(value, kind)
                if parsed is None:
                    ws.write_string(i + 1, j, value)  # an unparseable date stays text
                else:
                    ws.write_datetime(i + 1, j, parsed, fmt_date if kind == DATE else fmt_ts)
            else:
                ws.write_string(i + 1, j, value)
    ws.set_column(0, len(names) - 1, 16)
    wb.close()


def _parse(value: str, kind: str) -> datetime | None:
    try:
        if kind == DATE:
            return datetime.strptime(value, "%Y-%m-%d")
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
