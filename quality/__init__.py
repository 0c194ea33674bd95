"""Data-quality gate: GX suites over the raw layer and the marts, history, Data Docs."""

from quality.runner import QualityRun, reports_dir_for, run_quality

__all__ = ["QualityRun", "reports_dir_for", "run_quality"]
