"""ArUco markers: synthetic images, and the simulator's real marker textures seen by its camera."""

import dataclasses
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from common_pkg.worldspec import Pose2D, load_world
from perception_pkg.markers import MarkerDetector, camera_matrix
from sim_pkg.mjcf import marker_image
from sim_pkg.world import SimWorld

PLATING = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"


def intrinsics(profile):
    f = (profile.camera_height_px / 2) / math.tan(profile.camera_vfov_rad / 2)
    return camera_matrix(
        [f, 0, profile.camera_width_px / 2, 0, f, profile.camera_height_px / 2, 0, 0, 1]
    )


def truth_in_optical_frame(world, point_world):
    """Where a world point is in the camera's optical frame (z forward, x right, y down)."""
    cam = world.model.camera("front_camera").id
    rot = world.data.cam_xmat[cam].reshape(3, 3)
    p = rot.T @ (
        np.asarray(point_world) - world.data.cam_xpos[cam]
    )  # MuJoCo camera: -z forward, y up
    return np.array([p[0], -p[1], -p[2]])


def view_of_station(profile, distance_m, bearing_deg=0.0):
    """The robot `distance_m` from the first plating station's marker, looking at it from
    `bearing_deg` off its axis."""
    spec = load_world(PLATING)
    station = spec.stations[0]
    mx, my, _ = station.marker_center_xyz()
    cam_x = profile.raw["camera"]["mount_xyz_m"][0]
    side = math.radians(bearing_deg)
    back = station.facing_rad + math.pi + side
    rx, ry = mx + (distance_m + cam_x) * math.cos(back), my + (distance_m + cam_x) * math.sin(back)
    world = SimWorld(dataclasses.replace(spec, robot_start=Pose2D(rx, ry, back - math.pi)), profile)
    world.step()
    return world, station


def test_synthetic_marker_is_found_with_its_id():
    image = cv2.copyMakeBorder(
        marker_image(42, 200), 100, 100, 150, 150, cv2.BORDER_CONSTANT, value=255
    )
    k = camera_matrix([500, 0, image.shape[1] / 2, 0, 500, image.shape[0] / 2, 0, 0, 1])
    (found,) = MarkerDetector().detect(image, k)
    assert found.marker_id == 42
    # a 0.12 m marker whose black square is 200 px wide at f = 500 px is 0.3 m away, straight ahead
    assert found.position_m == pytest.approx([0.0, 0.0, 500 * 0.12 / 200], abs=0.01)


def test_no_marker_no_detection(profile):
    blank = np.full((480, 640, 3), 200, np.uint8)
    assert MarkerDetector().detect(blank, intrinsics(profile)) == []


@pytest.mark.parametrize(("distance_m", "bearing_deg"), [(1.0, 0.0), (1.0, 25.0), (1.6, -15.0)])
def test_station_marker_rendered_by_the_simulator_is_located_within_2cm(
    profile, distance_m, bearing_deg
):
    world, station = view_of_station(profile, distance_m, bearing_deg)
    frame = world.render_camera()
    found = MarkerDetector().detect(frame, intrinsics(profile))
    world.close()
    assert [d.marker_id for d in found] == [station.marker_id]
    truth = truth_in_optical_frame(world, station.marker_center_xyz())
    assert np.linalg.norm(found[0].position_m - truth) < 0.02
    top_left, top_right, _, bottom_left = found[0].corners_px  # printed upright, seen upright
    assert top_left[0] < top_right[0] and top_left[1] < bottom_left[1]
    assert truth[2] == pytest.approx(distance_m, abs=0.01)  # the robot looks straight at the marker
