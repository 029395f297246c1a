from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def model_dir() -> Path:
    return REPO / "models" / "tcn_encoder" / "v0.1.0"
