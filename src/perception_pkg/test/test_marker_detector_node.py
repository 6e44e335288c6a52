"""The bridge renders, the marker detector detects, this process receives: three processes, DDS."""

from pathlib import Path

import pytest
import yaml
from visualization_msgs.msg import MarkerArray

PLATING = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"


@pytest.fixture
def facing_station(tmp_path):
    """The plating scenario with the robot 1 m in front of the first station's marker."""
    data = yaml.safe_load(PLATING.read_text())
    data["robot_start"] = {"position_m": [7.518 - 1.0 - 0.076, 0.9], "yaw_deg": 0}
    path = tmp_path / "facing_station.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_marker_detector_finds_the_station_marker_in_rendered_frames(
    ros_process, ros_node, facing_station
):
    ros_process(
        "sim_pkg.nodes.bridge_node", params={"scenario": facing_station, "real_time_factor": 1.0}
    )
    ros_process("perception_pkg.nodes.marker_detector_node", params={"use_sim_time": True})
    seen: list[MarkerArray] = []
    ros_node.create_subscription(MarkerArray, "/aruco/markers", seen.append, 10)
    assert ros_node.spin_until(lambda: any(m.markers for m in seen), 60), "no marker detected"
    marker = next(m for m in seen if m.markers).markers[0]
    assert marker.id == 11  # rinse_check's marker in banwol_plating_01
    assert marker.header.frame_id == "camera_rgb_optical_frame"
    assert marker.pose.position.z == pytest.approx(1.0, abs=0.02)
    assert marker.pose.position.x == pytest.approx(0.0, abs=0.02)
