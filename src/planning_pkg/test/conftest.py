import os

import pytest

from common_pkg.profile import load_profile
from common_pkg.worldspec import Block, Part, Pose2D, WorldSpec, _perimeter
from planning_pkg.arm_kinematics import ArmGeometry

os.environ.setdefault("MUJOCO_GL", "egl")


@pytest.fixture(scope="session")
def profile():
    return load_profile()


@pytest.fixture(scope="session")
def geometry(profile):
    return ArmGeometry.from_profile(profile)


@pytest.fixture
def empty_room():
    """A 4 m x 4 m room with 1 m walls; the robot at (1, 2) facing +x (east)."""
    return WorldSpec(
        (4.0, 4.0), _perimeter((4.0, 4.0), 1.0, 0.1), (), (), (), Pose2D(1.0, 2.0, 0.0)
    )


@pytest.fixture
def part():
    """A small machined bushing, 3 x 3 x 5 cm and 50 g, standing on the workcell's table."""
    return Part("bushing", (1.17, 1.5), (0.03, 0.03, 0.05), 0.06, 0.05)


@pytest.fixture
def workcell(part):
    """The robot at (1, 1.5) facing a low table (top at 6 cm) with the part on it, 17 cm ahead of
    base_link: within the arm's reach with the gripper pointing steeply down."""
    table = Block("table", (1.22, 1.5), (0.2, 0.4), part.base_z_m, 0.0)
    return WorldSpec(
        (3.0, 3.0),
        _perimeter((3.0, 3.0), 1.0, 0.1),
        (table,),
        (),
        (),
        Pose2D(1.0, 1.5, 0.0),
        (part,),
    )
