"""What every benchmark reports with: the machine it ran on, and where its table goes."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def publish(text: str, markdown: str | None) -> None:
    """Print the table; also write it to the --markdown file when one is given."""
    print(text)
    if markdown:
        Path(markdown).write_text(text + "\n")
