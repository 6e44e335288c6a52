import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

ASSIGNMENT = Path(__file__).resolve().parents[1] / "assignments" / "plating_stations"


@pytest.fixture
def assignment_dir():
    return ASSIGNMENT
