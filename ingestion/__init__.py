"""Lossless ingestion of CRM exports into DuckDB schema `raw` (see docs/ingestion.md)."""

from ingestion.loader import IngestFailed, ingest
from ingestion.report import FileResult, IngestReport

__all__ = ["FileResult", "IngestFailed", "IngestReport", "ingest"]
