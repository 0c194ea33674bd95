"""The benchmark's targets, read from `bench/targets.yml` (one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

TARGETS_FILE = Path(__file__).with_name("targets.yml")


@dataclass(frozen=True)
class Target:
    figure: str
    label: str
    unit: str
    max: float | None = None
    min: float | None = None

    def met(self, value: float | None) -> bool | None:
        """None when the figure could not be measured."""
        if value is None:
            return None
        if self.max is not None and value > self.max:
            return False
        return not (self.min is not None and value < self.min)

    @property
    def text(self) -> str:
        return f"≤ {self.max:g}" if self.max is not None else f"≥ {self.min:g}"


def load_targets(path: Path = TARGETS_FILE) -> tuple[str, list[Target]]:
    """The scale the targets are stated for, and the targets."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document["applies_to_scale"], [Target(**t) for t in document["targets"]]
