from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage.data import astronaut as _astronaut

    return np.ascontiguousarray(_astronaut())


@pytest.fixture(scope="session")
def small_image(astronaut) -> np.ndarray:
    """A small odd-sized crop (odd sizes catch off-by-one resizing bugs)."""
    return np.ascontiguousarray(astronaut[40:137, 150:221])


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (CI has it)")
    return SHARED_DATA
