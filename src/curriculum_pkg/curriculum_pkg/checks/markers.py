"""marker_report: the stations' ArUco markers the student's node saw in the camera, with their
poses in the robot's frame (visualization_msgs/MarkerArray), judged against ground truth.

What a report is. Every Marker in a MarkerArray with action ADD is one report:
  - id            the ArUco id (the scenario's dictionary, common_pkg.worldspec.MARKER_DICTIONARY)
  - header.stamp  the stamp of the camera image it was found in (sensor_msgs/Image header.stamp)
  - header.frame_id  base_link (base_footprint is accepted too: it is base_link moved down to the
                  floor; any other frame is refused with a finding saying so)
  - pose.position     the centre of the marker's black square
  - pose.orientation  the marker's frame as OpenCV's ArUco pose gives it: x to the right of the
                  printed marker, y up it, z out of its face towards the camera. Only the yaw of
                  that z axis (the marker's normal) about base_link's vertical is judged.

Evidence. A report is judged only when its stamp is the stamp of a camera frame the simulator
really published (`StepTruth.frame_stamp`), it arrived no earlier than that frame (give or take
one clock period, the grader's resolution of arrival times) and no later than `max_age_s` after
it (sim time), and it is the first report of that id for that frame (later
ones are ignored, so guessing many poses gains nothing). Then, for that frame, from the true
robot pose at the frame's time, the camera mount and field of view in the robot profile, and
each station's true marker pose in the simulated world:
  - a marker is CLEARLY VISIBLE when its four corners project inside the image (`edge_margin_px`
    from the border), it is no farther than `max_range_m` from the camera, it faces the camera
    within `max_view_angle_deg`, and nothing solid stands between the camera and its centre or
    any corner (MuJoCo rays against the world's solid geoms: walls, obstacles, posts, workers);
  - it is IN VIEW (a weaker test) when it faces the camera (within 85°) and its centre or a corner
    projects inside the image (give or take 20 px) with nothing solid in the way, at any distance.
The defaults (2.0 m, 60°, 4 px) are where OpenCV's ArUco detector with IPPE_SQUARE (as in
perception_pkg.markers) finds the simulator's 0.12 m markers within 0.1 m and 3° every time;
beyond 2.5 m, or at 60° from 2.5 m, it misses them or flips their pose.
  A judged report is
  - CORRECT when its marker is in view and its position is within `position_tolerance_m` (3-D
    distance) and its normal's yaw within `yaw_tolerance_deg` of the truth in that frame;
  - WRONG when its id is not in view in that frame (blind guesses, made-up ids, other frames'
    markers), or the marker was clearly visible and the pose is off by more than 3x a
    tolerance (a far or oblique marker may give even a good detector a flipped pose: that is
    not penalised);
  - otherwise INACCURATE: no credit, no penalty.

Score. The stations whose marker was clearly visible in at least `min_clear_frames` (5: a third
of a second) published frames are the ones to find; a glimpse is not asked for, but a station
found from a glimpse (a correct report in a frame where its marker was in view) counts as one to
find too: finding more than asked never costs. identified = the stations with at least one
correct report. judged = the reports judged (one per id and frame), wrong = those of them that
were wrong.

    score = max(0, identified / (clearly_visible | identified) - wrong_penalty * wrong / judged)

(penalty 2)

The penalty is a share, not a count: ArUco now and then "finds" a marker in a texture, and one
such report among hundreds of good ones costs almost nothing, while a node that names stations
it cannot see (a blind guess from the public scenario file: most frames show none of them)
loses everything. Hidden variants draw new marker ids and move the stations, so a guess from the
map fails there too.

No station to find (no camera frames at all: the node never subscribed to /camera/image_raw; or
the tour showed none) scores 0, with a finding saying which. The tour is the platform's, open
loop (a recorded gamepad), so a hidden variant could take it past the stations: before grading,
the grader drives the tour without ROS (curriculum_pkg.tour) and draws the variant again until
it shows every station clearly, with a margin (`variant_problem`).

Memory is bounded whatever is flooded: at most `MAX_MARKERS_PER_MESSAGE` reports are read from a
message, at most `MAX_PENDING` wait for their frame, the truth is kept only for the camera frames
of the last `max_age_s` (plus a second), and the stamps of older frames in a capped set.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from curriculum_pkg.checks.base import Check, CheckResult, StepTruth, register
from curriculum_pkg.checks.marker_view import (
    CameraGeometry,
    MarkerTruth,
    MarkerVisibility,
    WorldMarker,
    world_markers,
    wrap_angle,
)

BASE_LINK = "base_link"  # REP-105: the robot's body frame, on the wheel axle
MARKER_ADD = 0  # visualization_msgs/Marker.ADD (= MODIFY)
MAX_MARKERS_PER_MESSAGE = 64  # a scenario has a handful of stations; the rest is a flood
MAX_PENDING = 4096  # reports waiting for their frame's truth (the grader's queue is 50 messages)
MAX_IDS_PER_FRAME = 256  # ids judged per frame (DICT_4X4_250 has 250)
MAX_FRAME_STAMPS = 20_000  # stamps of older frames (15 Hz: 22 min), to tell "late" from "made up"
# A hidden variant's tour, forecast without ROS, must show each station clearly in this many
# times `min_clear_frames`, nearer and straighter than the check asks by these margins: the
# graded run follows the forecast within a few centimetres (16 cm after a long creep measured).
TOUR_FRAMES_FACTOR = 2
TOUR_RANGE_MARGIN_M = 0.10
TOUR_ANGLE_MARGIN_DEG = 3.0


def _stamp_key(seconds: float) -> int:
    return round(seconds * 1000)  # ms: stamps are whole control periods (10 ms)


@dataclass
class FrameTruth:
    t: float  # the frame's stamp, sim s
    markers: dict[int, MarkerTruth]  # marker id -> truth, for the markers in view
    judged: set[int] = field(default_factory=set)  # ids already reported for this frame


@dataclass
class Report:
    marker_id: int
    frame_id: str
    stamp_s: float
    t_recv: float
    position: tuple[float, float, float]
    quaternion_xyzw: tuple[float, float, float, float]


@dataclass
class StationRecord:
    station_id: str
    name_en: str
    name_ko: str
    marker_id: int
    frames_clear: int = 0
    first_clear_s: float | None = None
    reports: int = 0  # judged reports of its id in frames where it was in view
    identified_s: float | None = None  # arrival time of the first correct report
    best_position_error_m: float = math.inf
    best_yaw_error_deg: float = math.inf


def _quaternion_normal_yaw(q: tuple[float, float, float, float]) -> float | None:
    """Yaw of the z axis of the rotation `q` (x, y, z, w), None if it is not a rotation or its
    z axis is (nearly) vertical."""
    x, y, z, w = q
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(norm) or norm < 1e-6:
        return None
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    zx = 2.0 * (x * z + w * y)
    zy = 2.0 * (y * z - w * x)
    if math.hypot(zx, zy) < 0.1:
        return None
    return math.atan2(zy, zx)


def _visibility(spec: dict, profile, margin_m: float = 0.0, margin_deg: float = 0.0):
    return MarkerVisibility(
        CameraGeometry.from_profile(profile),
        float(spec.get("max_range_m", 2.0)) - margin_m,
        float(spec.get("max_view_angle_deg", 60.0)) - margin_deg,
        float(spec.get("edge_margin_px", 4.0)),
    )


@register
class MarkerReport(Check):
    kind = "marker_report"
    vets_variants = True

    @classmethod
    def variant_problem(cls, spec, scenario, profile, assignment) -> tuple[str, str] | None:
        """The stations the platform's tour would not show clearly in `scenario`, if any (see
        the module docstring); None when the platform drives nothing."""
        from curriculum_pkg.tour import drive_tour, tour_parameters, tour_script

        script = tour_script(assignment)
        if script is None:
            return None
        visibility = _visibility(spec, profile, TOUR_RANGE_MARGIN_M, TOUR_ANGLE_MARGIN_DEG)
        markers = world_markers(scenario.world)
        clear = dict.fromkeys((m.marker_id for m in markers), 0)
        for frame in drive_tour(scenario, profile, script, tour_parameters(assignment)):
            for marker_id, seen in visibility.frame(frame.pose, markers, frame.world).items():
                clear[marker_id] += seen.clear
        need = TOUR_FRAMES_FACTOR * int(spec.get("min_clear_frames", 5))
        missed = [m.station_id for m in markers if clear[m.marker_id] < need]
        if not missed:
            return None
        names = ", ".join(missed)
        return (
            f"the platform's tour would show station(s) {names} clearly in fewer than {need} "
            "camera frames",
            f"플랫폼이 모는 경로에서 스테이션 {names}이(가) 카메라에 제대로 보이는 이미지가 "
            f"{need}장이 안 됩니다",
        )

    def __init__(self, spec, scenario, profile):
        super().__init__(spec, scenario, profile)
        self.topic = spec.get("topic", "/stations/detected")
        self.position_tol_m = float(spec.get("position_tolerance_m", 0.10))
        self.yaw_tol_rad = math.radians(float(spec.get("yaw_tolerance_deg", 15.0)))
        self.max_age_s = float(spec.get("max_age_s", 1.0))
        self.wrong_penalty = float(spec.get("wrong_penalty", 2.0))
        self.min_clear_frames = int(spec.get("min_clear_frames", 5))
        # The grader knows when an answer was sent to the step (the monitor's note_time): one
        # sent in the same tick as its image may read a step earlier.
        self.arrival_slack_s = profile.clock_period_s + 1e-6
        self.visibility = _visibility(spec, profile)
        # frame -> how far base_link lies above it (base_footprint: on the floor, REP-105)
        self.base_frames = {profile.base_frame_id: profile.base_link_height_m, BASE_LINK: 0.0}
        self._markers: list[WorldMarker] | None = None  # the simulated world's, at the 1st step
        self.stations: dict[int, StationRecord] = {}  # marker id -> record
        self._frames: OrderedDict[int, FrameTruth] = OrderedDict()  # recent frames by stamp
        self._old_stamps: OrderedDict[int, None] = OrderedDict()  # stamps of older frames
        self._pending: deque[Report] = deque()
        self._last_step_t = -math.inf
        self.frames_published = 0
        self.counts = dict.fromkeys(
            (
                "reports",
                "correct",
                "inaccurate",
                "judged",
                "wrong",
                "not_in_view",
                "far_off",
                "late",
                "early",
                "unknown_stamp",
                "wrong_frame",
                "duplicate",
                "ignored",
            ),
            0,
        )
        self.first_problem: dict[str, tuple[str, str]] = {}  # count name -> (en, ko) example
        # Reports in the right place, and those of them turned by more than 60°: mostly turned
        # means a convention mistake (the marker's x or -z taken as its normal), not noise.
        self.placed_right = 0
        self.placed_right_turned = 0

    def topics(self):
        return [(self.topic, "visualization_msgs/msg/MarkerArray")]

    # ------------------------------------------------------------------ input
    def on_message(self, topic, msg, t_recv):
        markers = msg.markers
        if len(markers) > MAX_MARKERS_PER_MESSAGE:
            self.counts["ignored"] += len(markers) - MAX_MARKERS_PER_MESSAGE
        for marker in markers[:MAX_MARKERS_PER_MESSAGE]:
            if marker.action != MARKER_ADD:
                continue  # DELETE / DELETEALL clear a display; they claim nothing
            p, q = marker.pose.position, marker.pose.orientation
            report = Report(
                int(marker.id),
                str(marker.header.frame_id)[:64],
                marker.header.stamp.sec + marker.header.stamp.nanosec * 1e-9,
                float(t_recv),
                (float(p.x), float(p.y), float(p.z)),
                (float(q.x), float(q.y), float(q.z), float(q.w)),
            )
            claims_unsent = report.stamp_s > report.t_recv + self.arrival_slack_s
            if report.stamp_s <= self._last_step_t + 1e-6 or claims_unsent:
                self._judge(report)  # its frame is known, or it claims an image not yet sent
            elif len(self._pending) < MAX_PENDING:
                self._pending.append(report)  # this step's frame: judged once on_step has it
            else:
                self.counts["ignored"] += 1

    def on_step(self, truth: StepTruth) -> None:
        if self._markers is None:
            self._markers = world_markers(truth.world.spec)
            self.stations = {
                m.marker_id: StationRecord(m.station_id, m.name_en, m.name_ko, m.marker_id)
                for m in self._markers
            }
        self._last_step_t = truth.t
        if truth.frame_stamp is not None:
            self._add_frame(truth)
        if self._pending:
            self._judge_ready()
        self._forget_old_frames()

    def _add_frame(self, truth: StepTruth) -> None:
        self.frames_published += 1
        seen = self.visibility.frame(truth.pose, self._markers, truth.world)
        self._frames[_stamp_key(truth.frame_stamp)] = FrameTruth(truth.frame_stamp, seen)
        for marker in seen.values():
            if marker.clear:
                record = self.stations[marker.marker_id]
                record.frames_clear += 1
                if record.first_clear_s is None:
                    record.first_clear_s = truth.frame_stamp

    def _forget_old_frames(self) -> None:
        horizon = self._last_step_t - self.max_age_s - 1.0
        while self._frames:
            key, frame = next(iter(self._frames.items()))
            if frame.t >= horizon:
                break
            self._frames.popitem(last=False)
            self._old_stamps[key] = None
            if len(self._old_stamps) > MAX_FRAME_STAMPS:
                self._old_stamps.popitem(last=False)

    def _judge_ready(self) -> None:
        """Judge the waiting reports whose frame's truth is known (the steps up to their stamp
        have been seen), in arrival order."""
        for _ in range(len(self._pending)):
            report = self._pending.popleft()
            if report.stamp_s <= self._last_step_t + 1e-6:
                self._judge(report)
            else:
                self._pending.append(report)

    # ------------------------------------------------------------------ judging
    def _problem(self, name: str, en: str, ko: str) -> None:
        self.counts[name] += 1
        self.first_problem.setdefault(name, (en, ko))

    def _judge(self, r: Report) -> None:
        self.counts["reports"] += 1
        if r.frame_id not in self.base_frames:
            self._problem(
                "wrong_frame",
                f"marker {r.marker_id} reported in frame '{r.frame_id}': report poses in '{BASE_LINK}'",
                f"ID {r.marker_id} 마커를 '{r.frame_id}' 좌표계로 보고했습니다: '{BASE_LINK}'(로봇 좌표계)로 보고하세요",
            )
            return
        if r.t_recv < r.stamp_s - self.arrival_slack_s:
            self._problem(
                "early",
                f"marker {r.marker_id} reported before its image was published",
                f"ID {r.marker_id} 마커를 이미지가 발행되기 전에 보고했습니다",
            )
            return
        key = _stamp_key(r.stamp_s)
        frame = self._frames.get(key)
        if frame is None:
            if key in self._old_stamps:
                self._problem(
                    "late",
                    f"marker {r.marker_id} reported {r.t_recv - r.stamp_s:.1f} s after its image (limit {self.max_age_s:g} s)",
                    f"ID {r.marker_id} 마커를 이미지보다 {r.t_recv - r.stamp_s:.1f}초 늦게 보고했습니다 (제한 {self.max_age_s:g}초)",
                )
            else:
                self._problem(
                    "unknown_stamp",
                    f"marker {r.marker_id} stamped {r.stamp_s:.3f} s: no camera image has that stamp; copy the image's header.stamp",
                    f"ID {r.marker_id} 마커의 stamp({r.stamp_s:.3f}초)와 같은 카메라 이미지가 없습니다: 이미지의 header.stamp를 그대로 쓰세요",
                )
            return
        if r.t_recv - frame.t > self.max_age_s + 1e-6:
            self._problem(
                "late",
                f"marker {r.marker_id} reported {r.t_recv - frame.t:.1f} s after its image (limit {self.max_age_s:g} s)",
                f"ID {r.marker_id} 마커를 이미지보다 {r.t_recv - frame.t:.1f}초 늦게 보고했습니다 (제한 {self.max_age_s:g}초)",
            )
            return
        if r.marker_id in frame.judged:
            self.counts["duplicate"] += 1
            return
        self.counts["judged"] += 1
        if len(frame.judged) >= MAX_IDS_PER_FRAME:
            self._wrong(
                "not_in_view", r, "too many ids in one frame", "한 이미지에 ID가 너무 많습니다"
            )
            return
        frame.judged.add(r.marker_id)
        truth = frame.markers.get(r.marker_id)
        if truth is None:
            self._wrong(
                "not_in_view",
                r,
                f"marker {r.marker_id} was not in view in the image of {frame.t:.2f} s",
                f"{frame.t:.2f}초 이미지에는 ID {r.marker_id} 마커가 보이지 않았습니다",
            )
            return
        self._compare(r, truth)

    def _compare(self, r: Report, truth: MarkerTruth) -> None:
        dz = self.base_frames[r.frame_id]  # base_footprint lies below base_link
        tx, ty, tz = truth.position_m
        px, py, pz = r.position
        position_error = math.sqrt((px - tx) ** 2 + (py - ty) ** 2 + (pz - dz - tz) ** 2)
        if not math.isfinite(position_error):
            position_error = math.inf
        yaw = _quaternion_normal_yaw(r.quaternion_xyzw)
        yaw_error = math.pi if yaw is None else abs(wrap_angle(yaw - truth.normal_yaw_rad))
        record = self.stations[truth.marker_id]
        record.reports += 1
        record.best_position_error_m = min(record.best_position_error_m, position_error)
        if position_error <= self.position_tol_m:
            record.best_yaw_error_deg = min(record.best_yaw_error_deg, math.degrees(yaw_error))
            self.placed_right += 1
            self.placed_right_turned += yaw_error > math.radians(60.0)
        if position_error <= self.position_tol_m and yaw_error <= self.yaw_tol_rad:
            self.counts["correct"] += 1
            if record.identified_s is None:
                record.identified_s = r.t_recv
        elif truth.clear and (
            position_error > 3.0 * self.position_tol_m or yaw_error > 3.0 * self.yaw_tol_rad
        ):  # far or oblique markers give flipped poses even to a good detector: no penalty there
            self._wrong(
                "far_off",
                r,
                f"marker {r.marker_id} off by {position_error:.2f} m / {math.degrees(yaw_error):.0f}°",
                f"ID {r.marker_id} 마커의 위치 오차 {position_error:.2f} m / 방향 오차 {math.degrees(yaw_error):.0f}°",
            )
        else:
            self.counts["inaccurate"] += 1

    def _wrong(self, name: str, r: Report, en: str, ko: str) -> None:
        self.counts["wrong"] += 1
        self._problem(name, en, ko)

    # ------------------------------------------------------------------ result
    def result(self) -> CheckResult:
        # Reports still waiting claim the frame of a step not seen yet: they are not judged.
        visible = sorted(
            (s for s in self.stations.values() if s.frames_clear >= self.min_clear_frames),
            key=lambda s: s.first_clear_s,
        )
        # A station found from a glimpse is one to find too (finding more never costs).
        visible += sorted(
            (
                s
                for s in self.stations.values()
                if s.identified_s is not None and s.frames_clear < self.min_clear_frames
            ),
            key=lambda s: s.identified_s,
        )
        found = [s for s in visible if s.identified_s is not None]
        wrong, judged = self.counts["wrong"], self.counts["judged"]
        found_share = len(found) / len(visible) if visible else 0.0
        penalty = self.wrong_penalty * wrong / judged if judged else 0.0
        score = max(0.0, found_share - penalty)
        en, ko = self._feedback(visible, found, wrong, penalty)
        details = {
            "stations_visible": len(visible),
            "stations_identified": len(found),
            "frames_published": self.frames_published,
            **self.counts,
            "stations": {
                s.station_id: {
                    "marker_id": s.marker_id,
                    "frames_clearly_visible": s.frames_clear,
                    "first_visible_s": _round(s.first_clear_s),
                    "identified": s.identified_s is not None,
                    "first_identified_s": _round(s.identified_s),
                    "reports": s.reports,
                    "best_position_error_m": _round(s.best_position_error_m, 3),
                    "best_yaw_error_deg": _round(s.best_yaw_error_deg, 1),
                }
                for s in self.stations.values()
            },
        }
        return CheckResult(self.kind, round(score, 4), en, ko, details)

    def _feedback(self, visible, found, wrong, penalty) -> tuple[str, str]:
        if self.frames_published == 0:
            return (
                "no camera image was published: subscribe to /camera/image_raw (sensor QoS)",
                "카메라 이미지가 한 장도 발행되지 않았습니다: /camera/image_raw 토픽을 센서 QoS로 구독하세요",
            )
        if not visible:
            return (
                "no station marker came clearly into the camera's view: nothing to find",
                "카메라에 스테이션 마커가 제대로 보인 적이 없어 찾을 것이 없었습니다",
            )
        en = f"identified {len(found)}/{len(visible)} station markers"
        ko = f"스테이션 마커 {len(visible)}개 중 {len(found)}개 확인"
        if wrong:
            judged = self.counts["judged"]
            en += f", {wrong} of {judged} reports wrong (-{penalty:.2f})"
            ko += f", 보고 {judged}개 중 {wrong}개 틀림 (-{penalty:.2f})"
        missed = next((s for s in visible if s.identified_s is None), None)
        if missed is not None:
            en += (
                f"; first miss: marker {missed.marker_id} ({missed.name_en}), in view from "
                f"{missed.first_clear_s:.1f} s in {missed.frames_clear} frames"
            )
            ko += (
                f"; 처음 놓친 마커: ID {missed.marker_id} ({missed.name_ko}), {missed.first_clear_s:.1f}초부터 "
                f"이미지 {missed.frames_clear}장에 보였습니다"
            )
            if missed.reports:
                en += f", best report off by {missed.best_position_error_m:.2f} m" + (
                    f" / {missed.best_yaw_error_deg:.0f}°"
                    if math.isfinite(missed.best_yaw_error_deg)
                    else ""
                )
                ko += f", 가장 가까운 보고의 오차 {missed.best_position_error_m:.2f} m" + (
                    f" / {missed.best_yaw_error_deg:.0f}°"
                    if math.isfinite(missed.best_yaw_error_deg)
                    else ""
                )
        problem = self._main_problem()
        if problem is not None:
            en += f"; {problem[0]}"
            ko += f"; {problem[1]}"
        return en, ko

    def _main_problem(self) -> tuple[str, str] | None:
        if self.placed_right_turned > self.placed_right / 2:
            return (
                "the marker's z axis must point out of its face, towards the camera (OpenCV's convention)",
                "마커의 z축은 마커 면에서 카메라 쪽으로 나와야 합니다 (OpenCV 규칙)",
            )
        order = ("wrong_frame", "unknown_stamp", "early", "late", "not_in_view", "far_off")
        counted = [name for name in order if self.counts[name]]
        if not counted:
            return None
        name = max(counted, key=lambda n: self.counts[n])
        en, ko = self.first_problem[name]
        n = self.counts[name]
        return f"{n}x like: {en}", f"{n}번, 예: {ko}"


def _round(value: float | None, digits: int = 2) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)
