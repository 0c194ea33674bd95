"""Deterministic, realistic CRM sample exports with planted faults and ground truth.

`generate(out_dir, scale, seed, fault_rate, as_of)` writes the base export;
`generate_increment(out_dir, scale, seed, day, as_of)` writes one more day of it."""

from generator.run import Summary, generate, generate_increment

__all__ = ["Summary", "generate", "generate_increment"]
