from pathlib import Path

import pytest


@pytest.fixture
def read_losses():
    """log.csv of a run folder -> {step: loss string} (strings: equality must be exact)."""
    import csv

    def read(run_dir) -> dict[int, str]:
        with open(Path(run_dir) / "log.csv") as f:
            return {int(r["step"]): r["loss"] for r in csv.DictReader(f)}

    return read
