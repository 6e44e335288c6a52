"""A forklift crossing in front of the robot, end to end: the simulator's bridge and the
perception pipeline's scan_processor, each in its own process, over DDS (real rclpy)."""

import math
import textwrap

import pytest
from geometry_msgs.msg import PoseArray

# A compact forklift (a stacker): scan_processor takes clusters longer than 1.5 m for walls
# (perception_pkg MAX_EXTENT_M), and a full-size 2.0 m forklift seen side-on is one of those.
SCENARIO = """\
world:
  floor: {size_m: [7.0, 6.0]}
  perimeter_walls: {height_m: 1.0, thickness_m: 0.1}
  stations:
    - {id: dock, name: {ko: 도크, en: Dock}, marker_id: 3, stop_m: [6.0, 5.0], facing_deg: 0}
  actors:
    - id: stacker
      kind: forklift
      size_m: [1.2, 0.9, 2.0]
      path: [[3.5, 0.8], [3.5, 5.2]]
      speed_mps: 1.0
      pause_s: 1.0
robot_start: {position_m: [1.0, 3.0], yaw_deg: 0}
"""


def test_scan_processor_reports_a_forklift_crossing_in_front(tmp_path, ros_process, ros_node):
    scenario = tmp_path / "crossing.yaml"
    scenario.write_text(textwrap.dedent(SCENARIO))
    ros_process("sim_pkg.nodes.bridge_node", params={"scenario": scenario, "real_time_factor": 1.0})
    ros_process("perception_pkg.nodes.scan_processor_node", params={"use_sim_time": True})
    moving: list[PoseArray] = []
    ros_node.create_subscription(PoseArray, "/moving_obstacles", moving.append, 10)
    assert ros_node.spin_until(lambda: sum(len(m.poses) for m in moving) >= 5, 60), (
        f"the forklift was seen moving {sum(len(m.poses) for m in moving)} times "
        f"in {len(moving)} scans"
    )

    # In odom (zero at the robot's start, (1, 3) facing east), the forklift's near side is at
    # x = 3.5 - 0.45 - 1.0 = 2.05, and it drives north or south along it. Nothing else moves.
    for p in (p for m in moving for p in m.poses):
        heading = 2.0 * math.atan2(p.orientation.z, p.orientation.w)
        assert p.position.x == pytest.approx(2.05, abs=0.15)
        assert -2.5 < p.position.y < 2.5
        assert abs(heading) == pytest.approx(math.pi / 2, abs=0.4)
