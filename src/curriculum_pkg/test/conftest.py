import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

ASSIGNMENT = Path(__file__).resolve().parents[1] / "assignments" / "plating_stations"


@pytest.fixture
def assignment_dir():
    return ASSIGNMENT


@pytest.fixture
def starter_copy(tmp_path):
    """A writable copy of the starter package, to break in different ways."""
    dest = tmp_path / "submission"
    shutil.copytree(ASSIGNMENT / "starter", dest)
    return dest
