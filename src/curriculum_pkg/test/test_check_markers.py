"""marker_report: station ArUco markers reported in base_link, judged against the simulator's truth.

The world is the real heat-treatment shop (sihwa_heat_treatment_01) with the real robot profile;
the messages are real visualization_msgs. Frames are "published" every 1/15 s of sim time.
"""

import dataclasses
import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from scipy.spatial.transform import Rotation
from visualization_msgs.msg import Marker, MarkerArray

from common_pkg.profile import load_profile
from common_pkg.worldspec import Block, Pose2D
from curriculum_pkg.checks.base import StepTruth
from curriculum_pkg.checks.markers import MAX_PENDING, MarkerReport
from curriculum_pkg.scenario import load_scenario
from sim_pkg.mjcf import STATION_POST_HALF_DEPTH_M
from sim_pkg.world import SimWorld

FRAME_PERIOD_S = 1.0 / 15.0
SPEC = {
    "kind": "marker_report",
    "topic": "/stations/detected",
    "position_tolerance_m": 0.10,
    "yaw_tolerance_deg": 15.0,
    "max_age_s": 1.0,
    "min_clear_frames": 1,  # most tests show a frame or two; the default, 5, has its own test
}
# In front of the furnace panel (marker 51, on a post facing south), 1.4 m from it, looking at it.
IN_FRONT_OF_PANEL = Pose2D(3.6, 2.6, math.pi / 2)


@pytest.fixture(scope="module")
def profile():
    return load_profile()


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("sihwa_heat_treatment_01")


@pytest.fixture(scope="module")
def world(scenario, profile):
    world = SimWorld(scenario.world, profile)
    yield world
    world.close()


def station(scenario, station_id):
    return next(s for s in scenario.world.stations if s.id == station_id)


def true_marker(profile, st, pose):
    """The station's marker centre in base_link and its normal's yaw there, worked out here
    from the scenario and the profile (not with the check's own code)."""
    cx, cy, cz = st.marker_center_xyz(STATION_POST_HALF_DEPTH_M)
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    dx, dy = cx - pose.x, cy - pose.y
    xyz = (c * dx + s * dy, -s * dx + c * dy, cz - profile.base_link_height_m)
    normal_yaw = st.facing_rad + math.pi - pose.yaw  # the marker looks back at its stop point
    return xyz, normal_yaw


def marker_quaternion(normal_yaw):
    """OpenCV's marker frame: x right on the printed marker, y up, z out of its face."""
    normal = np.array([math.cos(normal_yaw), math.sin(normal_yaw), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(up, normal)
    return Rotation.from_matrix(np.column_stack([right, up, normal])).as_quat()  # x, y, z, w


def stamp_of(t):
    ns = round(t * 1e9)
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def report(marker_id, stamp_s, xyz, normal_yaw, frame_id="base_link"):
    m = Marker(id=int(marker_id), action=Marker.ADD, type=Marker.CUBE)
    m.header.frame_id = frame_id
    m.header.stamp = stamp_of(stamp_s)
    m.pose.position.x, m.pose.position.y, m.pose.position.z = (float(v) for v in xyz)
    q = marker_quaternion(normal_yaw)
    m.pose.orientation.x, m.pose.orientation.y = float(q[0]), float(q[1])
    m.pose.orientation.z, m.pose.orientation.w = float(q[2]), float(q[3])
    return m


class Episode:
    """Drives a check: frames at 15 Hz with the robot at `pose_at(t)`, answers `delay_s` later."""

    def __init__(self, check, world, pose_at):
        self.check, self.world, self.pose_at = check, world, pose_at
        self.t = 0.0

    def frame(self):
        self.t = round(self.t + FRAME_PERIOD_S, 2)  # stamps are whole 10 ms control periods
        pose = self.pose_at(self.t)
        self.check.on_step(StepTruth(self.t, pose, self.world, frame_stamp=self.t))
        return self.t, pose

    def answer(self, markers, t_recv=None):
        self.check.on_message(
            "/stations/detected", MarkerArray(markers=markers), self.t if t_recv is None else t_recv
        )


def honest_episode(check, world, profile, scenario, pose_at, frames, station_ids=None):
    """Every frame, report the stations the test knows to be in front of the camera (truth)."""
    episode = Episode(check, world, pose_at)
    stations = [s for s in scenario.world.stations if station_ids is None or s.id in station_ids]
    for _ in range(frames):
        t, pose = episode.frame()
        found = []
        for st in stations:
            xyz, normal_yaw = true_marker(profile, st, pose)
            bearing = math.atan2(xyz[1], xyz[0])
            if 0.6 < math.hypot(xyz[0], xyz[1]) < 1.9 and abs(bearing) < math.radians(25):
                found.append(report(st.marker_id, t, xyz, normal_yaw))
        episode.answer(found)
    return episode


# ---------------------------------------------------------------------------------- the truth
def test_reporting_the_true_pose_of_a_marker_in_view_scores_1(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    honest_episode(check, world, profile, scenario, lambda t: IN_FRONT_OF_PANEL, 30)
    result = check.result()
    assert result.score == 1.0
    assert result.details["stations_visible"] == 1
    panel = result.details["stations"]["furnace_panel"]
    assert panel["identified"] and panel["frames_clearly_visible"] == 30
    assert panel["best_position_error_m"] < 0.001
    assert "1/1" in result.en and "1개 확인" in result.ko


def test_base_footprint_is_base_link_moved_down_to_the_floor(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    (x, y, z), normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    episode.answer(
        [report(51, t, (x, y, z + profile.base_link_height_m), normal_yaw, "base_footprint")]
    )
    assert check.result().score == 1.0


def test_a_report_in_the_camera_frame_is_refused_with_a_finding(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    episode.answer([report(51, t, xyz, normal_yaw, "camera_rgb_optical_frame")])
    result = check.result()
    assert result.score == 0.0
    assert "camera_rgb_optical_frame" in result.en and "base_link" in result.en
    assert "좌표계" in result.ko


# ---------------------------------------------------------------------------- wrong answers
def test_a_wrong_id_earns_nothing_and_counts_as_wrong(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    for _ in range(10):
        t, pose = episode.frame()
        xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
        episode.answer([report(17, t, xyz, normal_yaw)])  # 17: no station has it
    result = check.result()
    assert result.score == 0.0
    assert result.details["wrong"] == 10 and result.details["not_in_view"] == 10
    assert "marker 51" in result.en  # the first miss is named


@pytest.mark.parametrize(
    ("offset_m", "wrong"),
    [(0.2, 0), (0.5, 1)],  # beyond the tolerance: no credit; beyond 3x: a wrong report too
)
def test_a_position_off_by_more_than_the_tolerance_earns_nothing(
    world, profile, scenario, offset_m, wrong
):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    (x, y, z), normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    episode.answer([report(51, t, (x + offset_m, y, z), normal_yaw)])
    result = check.result()
    assert result.score == 0.0
    assert result.details["wrong"] == wrong
    assert result.details["stations"]["furnace_panel"]["best_position_error_m"] == pytest.approx(
        offset_m, abs=1e-3
    )


def test_a_normal_turned_a_quarter_turn_earns_nothing_and_names_the_convention(
    world, profile, scenario
):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    episode.answer([report(51, t, xyz, normal_yaw + math.pi / 2)])  # e.g. x out of the face
    result = check.result()
    assert result.score == 0.0
    assert "z axis" in result.en and "z축" in result.ko


def test_the_first_report_of_an_id_in_a_frame_decides_it(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    (x, y, z), normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    guesses = [report(51, t, (x + dx, y, z), normal_yaw) for dx in (0.6, 0.4, 0.2, 0.0)]
    episode.answer(guesses)  # guessing several poses for one frame: only the first counts
    result = check.result()
    assert result.score == 0.0
    assert result.details["duplicate"] == 3


# ---------------------------------------------------------------------------------- evidence
def test_a_report_later_than_max_age_earns_nothing(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    first, pose = episode.frame()
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    for _ in range(20):  # 1.3 s of frames
        episode.frame()
    episode.answer([report(51, first, xyz, normal_yaw)])
    result = check.result()
    assert result.score == 0.0 and result.details["late"] == 1
    assert "after its image" in result.en and "늦게" in result.ko


def test_a_stamp_that_no_published_frame_has_earns_nothing(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    episode.frame()
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    episode.answer([report(51, t + 0.03, xyz, normal_yaw)])  # between two frames: now(), say
    result = check.result()
    assert result.score == 0.0 and result.details["unknown_stamp"] == 1
    assert "header.stamp" in result.en and "header.stamp" in result.ko


def test_a_report_stamped_with_an_image_not_yet_published_earns_nothing(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    t, pose = episode.frame()
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    upcoming = round(t + FRAME_PERIOD_S, 2)  # frame stamps are easy to predict
    episode.answer([report(51, upcoming, xyz, normal_yaw)])
    episode.frame()
    result = check.result()
    assert result.score == 0.0 and result.details["early"] == 1


def test_an_answer_that_arrives_before_the_grader_steps_past_its_frame_waits_for_it(
    world, profile, scenario
):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    episode.frame()
    t = round(episode.t + FRAME_PERIOD_S, 2)
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), IN_FRONT_OF_PANEL)
    episode.answer([report(51, t, xyz, normal_yaw)], t_recv=t)  # same tick, delivered first
    episode.frame()  # the step of that frame
    assert check.result().score == 1.0


def test_no_camera_frame_scores_0_and_says_to_subscribe(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    for i in range(50):
        check.on_step(StepTruth(i * 0.02, IN_FRONT_OF_PANEL, world))  # no frame_stamp
    result = check.result()
    assert result.score == 0.0 and "/camera/image_raw" in result.en and "구독" in result.ko


# --------------------------------------------------------------------------- what was visible
def spin_at(x, y, period_s=16.0):
    return lambda t: Pose2D(x, y, (2.0 * math.pi * t / period_s) % (2.0 * math.pi))


def test_a_student_who_reports_every_station_blindly_from_the_scenario_scores_0(
    world, profile, scenario
):
    """Knows the public scenario, and the robot's true pose (better than odometry): reports
    every station's exact pose in every frame. Most frames show none of them."""
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, spin_at(3.4, 2.5))
    for _ in range(240):  # one turn in front of the furnace panel
        t, pose = episode.frame()
        episode.answer(
            [
                report(st.marker_id, t, *true_marker(profile, st, pose))
                for st in scenario.world.stations
            ]
        )
    result = check.result()
    # the furnace panel (clearly visible) and one more it glimpsed: finding either is right, but
    # the guesses at the others cost everything
    assert result.details["stations_identified"] == result.details["stations_visible"] == 2
    assert result.score == 0.0
    assert "not in view" in result.en


def test_a_station_found_from_a_glimpse_counts_as_found(world, profile, scenario):
    """The tour may show a marker only briefly (a hidden variant's tour ends elsewhere): a
    student who finds it anyway is right, and is not asked for the ones never shown."""
    panel = station(scenario, "furnace_panel")
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    for _ in range(2):  # fewer than min_clear_frames: not asked for
        t, pose = episode.frame()
        episode.answer([report(panel.marker_id, t, *true_marker(profile, panel, pose))])
    result = check.result()
    assert (result.details["stations_visible"], result.details["stations_identified"]) == (1, 1)
    assert result.score == 1.0, result.en


def test_an_honest_student_on_the_same_turn_scores_1(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    honest_episode(check, world, profile, scenario, spin_at(3.4, 2.5), 240)
    result = check.result()
    assert result.score == 1.0, result.en
    assert result.details["wrong"] == 0


def test_stations_never_clearly_visible_are_not_asked_for(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    honest_episode(check, world, profile, scenario, spin_at(3.4, 2.5), 240)
    stations = check.result().details["stations"]
    assert stations["furnace_panel"]["frames_clearly_visible"] > 0
    assert stations["hardness_check"]["frames_clearly_visible"] == 0  # 4.5 m away
    assert stations["quench_check"]["frames_clearly_visible"] == 0


@pytest.mark.parametrize(("frames", "asked_for"), [(4, 0), (5, 1)])
def test_a_station_glimpsed_in_fewer_than_5_frames_is_not_asked_for(
    world, profile, scenario, frames, asked_for
):
    spec = {k: v for k, v in SPEC.items() if k != "min_clear_frames"}
    check = MarkerReport(spec, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    for _ in range(frames):
        episode.frame()
    assert check.result().details["stations_visible"] == asked_for


def test_a_marker_behind_an_obstacle_is_not_in_view(profile, scenario):
    panel = station(scenario, "furnace_panel")
    cx, cy, _ = panel.marker_center_xyz(STATION_POST_HALF_DEPTH_M)
    crate = Block("crate", (cx, cy - 0.6), (0.6, 0.3), 1.0)  # between the robot and the panel
    walled = dataclasses.replace(scenario.world, obstacles=(*scenario.world.obstacles, crate))
    world = SimWorld(walled, profile)
    try:
        check = MarkerReport(SPEC, scenario, profile)
        episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
        t, pose = episode.frame()
        episode.answer([report(51, t, *true_marker(profile, panel, pose))])
        result = check.result()
    finally:
        world.close()
    assert result.details["stations_visible"] == 0
    assert result.details["not_in_view"] == 1


def test_a_far_marker_with_a_flipped_pose_is_not_penalised(world, profile, scenario):
    """3 m away the detector may flip the pose: no credit, but not a wrong report either."""
    check = MarkerReport(SPEC, scenario, profile)
    far = Pose2D(3.6, 1.1, math.pi / 2)
    episode = Episode(check, world, lambda t: far)
    t, pose = episode.frame()
    xyz, normal_yaw = true_marker(profile, station(scenario, "furnace_panel"), pose)
    episode.answer([report(51, t, xyz, normal_yaw + math.radians(120))])
    result = check.result()
    assert result.details["wrong"] == 0 and result.details["inaccurate"] == 1


# ---------------------------------------------------------------------------------- floods
def test_floods_are_bounded_and_earn_nothing(world, profile, scenario):
    check = MarkerReport(SPEC, scenario, profile)
    episode = Episode(check, world, lambda t: IN_FRONT_OF_PANEL)
    rng = np.random.default_rng(7)
    for _ in range(30):
        t, _pose = episode.frame()
        flood = [
            report(int(rng.integers(0, 2**31)), float(rng.uniform(0, 100)), (1.0, 0.0, 0.3), 0.0)
            for _ in range(500)
        ]
        flood += [Marker(action=Marker.DELETEALL) for _ in range(100)]
        episode.answer(flood)
        # every id of the dictionary, in this very frame
        episode.answer([report(i, t, (1.0, 0.0, 0.3), 0.0) for i in range(250)])
        episode.answer([report(7, t + 0.01, (1.0, 0.0, 0.3), 0.0)] * 2000, t_recv=t + 0.01)
    result = check.result()
    assert result.score == 0.0
    assert result.details["ignored"] > 0
    assert len(check._pending) <= MAX_PENDING
    assert len(check._frames) <= (SPEC["max_age_s"] + 1.0) / FRAME_PERIOD_S + 2


# ------------------------------------------------------------- the platform's own detector
def optical_to_base_link(profile, position, quaternion_xyzw):
    """camera_rgb_optical_frame (z forward, x right, y down) -> base_link (REP-103)."""
    optical = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # columns: axes
    xyz = optical @ np.asarray(position) + np.asarray(profile.camera_mount_xyz_m)
    rotation = optical @ Rotation.from_quat(quaternion_xyzw).as_matrix()
    return xyz, Rotation.from_matrix(rotation).as_quat()


@pytest.mark.parametrize(
    ("pose", "station_id"),
    [
        (Pose2D(3.6, 2.6, math.pi / 2), "furnace_panel"),  # 1.4 m, straight on
        (Pose2D(6.3, 0.8, 0.35), "hardness_check"),  # 1.7 m, 20° off its axis
        (Pose2D(6.45, 2.95, 0.9), "quench_check"),  # 1.7 m, 56° off its axis
    ],
)
def test_the_platform_detector_on_a_rendered_frame_scores_1(profile, scenario, pose, station_id):
    """What a student's node does, with perception_pkg's detector: the tolerance is reachable."""
    from perception_pkg.markers import MarkerDetector, camera_matrix

    world = SimWorld(dataclasses.replace(scenario.world, robot_start=pose), profile)
    try:
        world.step()
        t, true_pose = world.time_s, world.true_pose()
        image = world.render_camera()
        f = (profile.camera_height_px / 2) / math.tan(profile.camera_vfov_rad / 2)
        k = camera_matrix(
            [f, 0, profile.camera_width_px / 2, 0, f, profile.camera_height_px / 2, 0, 0, 1]
        )
        found = MarkerDetector().detect(image, k)
        check = MarkerReport(SPEC, scenario, profile)
        check.on_step(StepTruth(t, true_pose, world, frame_stamp=t))
        markers = []
        for det in found:
            xyz, q = optical_to_base_link(profile, det.position_m, det.quaternion_xyzw)
            m = report(det.marker_id, t, xyz, 0.0)
            m.pose.orientation.x, m.pose.orientation.y = float(q[0]), float(q[1])
            m.pose.orientation.z, m.pose.orientation.w = float(q[2]), float(q[3])
            markers.append(m)
        check.on_message("/stations/detected", MarkerArray(markers=markers), t + 0.02)
        check.on_step(StepTruth(t + 0.02, true_pose, world))
        result = check.result()
    finally:
        world.close()
    assert [d.marker_id for d in found] == [station(scenario, station_id).marker_id]
    assert result.score == 1.0, result.en
    assert result.details["stations"][station_id]["best_position_error_m"] < 0.05
