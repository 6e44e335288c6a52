"""A forklift crossing in front of the robot, end to end: the simulator's bridge and the
perception pipeline's scan_processor, each in its own process, over DDS (real rclpy)."""

import math
import textwrap

import pytest
from geometry_msgs.msg import PoseArray

# A full-size forklift (the default 2.0 x 1.1 m) driving across the robot's view, long side on:
# its 2 m cluster is still a mover for scan_processor (max_obstacle_extent_m 2.5), not a wall.
SCENARIO = """\
world:
  floor: {size_m: [7.0, 6.0]}
  perimeter_walls: {height_m: 1.0, thickness_m: 0.1}
  stations:
    - {id: dock, name: {ko: 도크, en: Dock}, marker_id: 3, stop_m: [6.0, 5.0], facing_deg: 0}
  actors:
    - id: forklift_1
      kind: forklift
      path: [[3.5, 1.2], [3.5, 4.8]]
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
    # x = 3.5 - 0.55 - 1.0 = 1.95, and it drives north or south along it. Nothing else moves.
    for p in (p for m in moving for p in m.poses):
        heading = 2.0 * math.atan2(p.orientation.z, p.orientation.w)
        assert p.position.x == pytest.approx(1.95, abs=0.15)
        assert -2.5 < p.position.y < 2.5
        assert abs(heading) == pytest.approx(math.pi / 2, abs=0.4)
