import os

import pytest

from common_pkg.profile import load_profile
from common_pkg.worldspec import Pose2D, WorldSpec, _perimeter

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"


@pytest.fixture(scope="session")
def profile():
    return load_profile()


@pytest.fixture
def empty_room():
    """A 4 m x 4 m room with 1 m walls; the robot at (1, 2) facing +x (east)."""
    return WorldSpec(
        (4.0, 4.0), _perimeter((4.0, 4.0), 1.0, 0.1), (), (), (), Pose2D(1.0, 2.0, 0.0)
    )
