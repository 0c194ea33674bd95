"""Encodings: which ones DuckDB's CSV reader takes as they are, and streamed re-encoding of the
others (GB18030, GBK, Shift-JIS, cp1252, ...) into a temporary UTF-8 file.

DuckDB reads only UTF-8, UTF-16 and Latin-1. Decoding happens in fixed-size chunks with an
incremental decoder, so a multi-gigabyte export never sits in memory whole.
"""

from __future__ import annotations

import codecs
from pathlib import Path

CHUNK_BYTES = 4 * 1024 * 1024
REPLACEMENT = "\ufffd"
# Python codec name -> DuckDB read_csv `encoding`.
_NATIVE = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}


def duckdb_encoding(encoding: str) -> str | None:
    """The DuckDB name for `encoding` when its reader handles it, else None."""
    return _NATIVE.get(codecs.lookup(encoding).name)


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> bool:
    """Re-encode `source` from `encoding` into UTF-8 at `target`.

    Byte sequences invalid in `encoding` become U+FFFD so that one bad line cannot sink the
    file; returns True when that happened, and the caller rejects the records holding them.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    replaced = False
    with source.open("rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := raw.read(CHUNK_BYTES):
            text = decoder.decode(chunk)
            replaced = replaced or REPLACEMENT in text
            out.write(text)
        text = decoder.decode(b"", final=True)
        replaced = replaced or REPLACEMENT in text
        out.write(text)
    return replaced
