"""A one-line progress bar on stderr, shown only on a terminal and never with --json."""

from __future__ import annotations

import sys


class ProgressBar:
    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled, self.shown = label, enabled and sys.stderr.isatty(), -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.enabled and percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.shown >= 0:
            sys.stderr.write("\n")
