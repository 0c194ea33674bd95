"""A byte copy of a DuckDB file with every committed row in it, made in a child process so the
quality gate can read the same file meanwhile (crm.pipeline, crm.publish).

The child holds a read-only connection for the length of the copy: DuckDB's shared file lock,
so no writer in another process can start mid-copy. It must be a child: one process cannot
hold two DuckDB connections to a file with different configurations, and the gate's GX engine
opens the file with its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from crm.errors import UserError


def checkpoint(db_path: Path) -> None:
    """Move rows committed since the last checkpoint from the WAL into the file, which a byte
    copy would otherwise miss. Call only while no other writer is open."""
    if db_path.with_name(db_path.name + ".wal").exists():
        con = duckdb.connect(str(db_path))
        try:
            con.execute("checkpoint")
        finally:
            con.close()


def copy_locked(db_path: Path, dest: Path) -> None:
    """Copy `db_path` to `dest` while holding its shared lock."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        shutil.copyfile(db_path, dest)
    finally:
        con.close()


class Snapshot:
    """A copy of `db_path` into `dest` running in the background from `start` on."""

    def __init__(self, db_path: Path, dest: Path) -> None:
        self.db_path, self.dest = Path(db_path), Path(dest)
        self.error: str | None = None
        self._done = False
        self._process = subprocess.Popen(
            [sys.executable, "-m", "crm.snapshot", str(self.db_path), str(self.dest)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    @classmethod
    def start(cls, db_path: Path, dest: Path) -> Snapshot:
        checkpoint(Path(db_path))
        return cls(db_path, dest)

    def wait(self) -> None:
        """Block until the copy has finished; `error` says why it failed. After this the file
        may be written again."""
        if self._done:
            return
        _, stderr = self._process.communicate()
        self._done = True
        if self._process.returncode != 0:
            lines = [line for line in stderr.splitlines() if line.strip()]
            self.error = lines[-1] if lines else f"copy exited with {self._process.returncode}"

    def check(self) -> None:
        """Wait, and raise the copy's failure as a one-line error."""
        self.wait()
        if self.error:
            raise UserError(f"copying {self.db_path} for publication failed: {self.error}")

    def discard(self) -> None:
        self.wait()
        self.dest.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    source, dest = (Path(a) for a in argv)
    try:
        copy_locked(source, dest)
    except (OSError, duckdb.Error) as exc:
        print(f"{dest}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # without the interpreter's teardown, as crm.cli.run
