"""/tf and /tf_static: the frames as a pure function, and a bridge that runs without tf2_msgs."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from nav_msgs.msg import Odometry

from sim_pkg.frames import odometry_frame, quaternion_from_rpy, static_frames

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"


def rotate(q, v):
    """v rotated by the unit quaternion q = (x, y, z, w)."""
    x, y, z, w = q
    u = np.array([x, y, z])
    v = np.asarray(v, float)
    return 2 * u.dot(v) * u + (w * w - u.dot(u)) * v + 2 * w * np.cross(u, v)


def test_static_frames_form_a_tree_from_base_footprint_with_turtlebot3_names(profile):
    frames = static_frames(profile)
    known = {"base_footprint"}
    for f in frames:  # parents first, each child once
        assert f.parent in known and f.child not in known
        known.add(f.child)
    assert {
        "base_link",
        "base_scan",
        "camera_rgb_frame",
        "camera_rgb_optical_frame",
        "link1",
    } <= known
    by_child = {f.child: f for f in frames}
    assert by_child["base_link"].xyz_m == (0.0, 0.0, profile.base_link_height_m)
    assert by_child["base_scan"].xyz_m == profile.lidar_mount_xyz_m  # the lidar's frame_id
    assert profile.lidar_frame_id == "base_scan"


def test_camera_optical_frame_looks_along_the_body_frames_x_axis(profile):
    optical = {f.child: f for f in static_frames(profile)}[profile.camera_frame_id]
    # REP-103: optical z (forward) is body x, optical x (right) is body -y, optical y is body -z
    assert rotate(optical.quat_xyzw, (0, 0, 1)) == pytest.approx([1, 0, 0], abs=1e-9)
    assert rotate(optical.quat_xyzw, (1, 0, 0)) == pytest.approx([0, -1, 0], abs=1e-9)
    assert rotate(optical.quat_xyzw, (0, 1, 0)) == pytest.approx([0, 0, -1], abs=1e-9)


def test_odometry_frame_places_base_footprint_in_odom(profile):
    f = odometry_frame(profile, 1.5, -0.5, math.pi / 2)
    assert (f.parent, f.child) == ("odom", "base_footprint")
    assert f.xyz_m == (1.5, -0.5, 0.0)
    assert f.quat_xyzw == pytest.approx(quaternion_from_rpy(0, 0, math.pi / 2))
    assert rotate(f.quat_xyzw, (1, 0, 0)) == pytest.approx([0, 1, 0], abs=1e-9)


def test_tf_is_skipped_without_tf2_msgs(monkeypatch):
    from sim_pkg.ros.tf_broadcast import TfBroadcaster, tf_message_class

    monkeypatch.setitem(sys.modules, "tf2_msgs.msg", None)  # as on a pip-only install
    assert tf_message_class() is None
    assert TfBroadcaster.create(node=None, profile=None) is None


def test_bridge_starts_and_says_tf_is_absent_without_tf2_msgs(ros_process, ros_node):
    if _importable("tf2_msgs"):
        pytest.skip("tf2_msgs is installed here: /tf is published")
    bridge = ros_process("sim_pkg.nodes.bridge_node", params={"scenario": SCENARIO})
    odoms: list[Odometry] = []
    ros_node.create_subscription(Odometry, "/odom", odoms.append, 10)
    assert ros_node.spin_until(lambda: len(odoms) > 2, 30), "no /odom from the bridge"
    assert bridge.poll() is None
    topics = dict(ros_node.get_topic_names_and_types())
    assert "/tf" not in topics and "/tf_static" not in topics
    log = Path(bridge.log_path).read_text()
    assert "tf2_msgs" in log and "설치되어 있지 않아" in log


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
