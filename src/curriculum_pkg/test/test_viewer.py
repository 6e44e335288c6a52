"""`rootroute view`: a recording with the grader's ground truth and events, replayed in a real
headless browser. The recording is written with the recorder API (no grading needed)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String

from curriculum_pkg.episode import EpisodeEvent
from curriculum_pkg.recording import (
    EVENTS_TOPIC,
    GROUND_TRUTH_TOPIC,
    WORLD_METADATA,
    EpisodeRecorder,
)
from curriculum_pkg.scenario import load_scenario
from curriculum_pkg.viewer import load_replay
from sim_pkg.liveview.scene import floor_plan, pose_json
from sim_pkg.liveview.testing import browser_page, chromium_path, free_port, wait_for_http

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios/banwol_plating_01.yaml"
EVENTS = [
    EpisodeEvent("task_done", 2.0, "station reached: rinse", "스테이션 도착: 수세조"),
    EpisodeEvent("collision", 6.5, "collision with wall_north", "충돌: wall_north"),
    EpisodeEvent("keep_out", 8.0, "entered keep-out zone", "출입 금지 구역 진입"),
]


@pytest.fixture
def recording(tmp_path):
    """A 10 s episode driving east along y = 1 m at 0.3 m/s, in a result folder with findings."""
    scenario = load_scenario(SCENARIO)
    start = scenario.world.robot_start
    path = tmp_path / "out/recordings/banwol_plating_01_v0.mcap"
    with EpisodeRecorder(path, {"scenario_id": scenario.id, "variant": "0"}) as rec:
        rec.add_metadata(
            WORLD_METADATA,
            {
                "floor_plan": json.dumps(floor_plan(scenario.world)),
                "odom_origin": json.dumps(pose_json(start)),
                "title_ko": scenario.title["ko"],
                "title_en": scenario.title["en"],
                "tasks": "3",
            },
        )
        for i in range(101):
            t_ns = i * 100_000_000
            truth = PoseStamped()
            truth.pose.position.x, truth.pose.position.y = 1.0 + 0.03 * i, 1.0
            truth.pose.orientation.w = 1.0
            rec.write(
                GROUND_TRUTH_TOPIC, "geometry_msgs/msg/PoseStamped", serialize_message(truth), t_ns
            )
            odom = Odometry()
            odom.pose.pose.position.x = 0.031 * i  # drifts ahead of the truth
            odom.pose.pose.orientation.w = 1.0
            rec.write("/odom", "nav_msgs/msg/Odometry", serialize_message(odom), t_ns)
            if i % 2 == 0:
                scan = LaserScan(angle_min=0.0, angle_increment=2 * math.pi / 360, range_max=3.5)
                scan.ranges = [1.0] * 360
                rec.write("/scan", "sensor_msgs/msg/LaserScan", serialize_message(scan), t_ns)
        for e in EVENTS:
            data = serialize_message(String(data=json.dumps(e.as_dict(), ensure_ascii=False)))
            rec.write(EVENTS_TOPIC, "std_msgs/msg/String", data, round(e.t_s * 1e9))
    (tmp_path / "out/result.json").write_text(
        json.dumps(
            {
                "episodes": [
                    {
                        "recording": {"path": "recordings/banwol_plating_01_v0.mcap"},
                        "criteria": [
                            {"key": "safety", "points": 0.0, "en": "1 collision", "ko": "충돌 1회"}
                        ],
                    }
                ]
            }
        )
    )
    return path


def test_replay_reads_truth_events_and_findings_from_the_recording(recording):
    replay = load_replay(recording)
    data = replay.data
    assert data["duration_s"] == pytest.approx(10.0)
    assert data["truth"][50][1:3] == pytest.approx([2.5, 1.0])
    assert [e["kind"] for e in data["events"]] == ["task_done", "collision", "keep_out"]
    assert data["findings"] == [
        {"key": "safety", "t_s": 6.5, "ko": "0.0점 — 충돌 1회", "en": "0.0 points — 1 collision"}
    ]
    assert len(data["scans"]) >= 15 and len(data["scans"][0][1]) == 360
    assert replay.scene["stations"] and data["progress"]["en"] == "1 of 3 tasks done"


def test_rootroute_view_replays_in_the_browser_and_an_event_moves_the_robot(recording):
    chromium_path()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "curriculum_pkg.cli", "view", str(recording), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://localhost:{port}/"
        wait_for_http(url + "api/info", 30, alive=lambda: proc.poll() is None)
        with browser_page() as page:
            page.goto(url)
            page.wait_for_function("() => window.rootroute.ready", timeout=20000)
            items = page.locator("#events li")
            assert items.count() == 3
            assert "충돌" in items.nth(1).inner_text()  # Korean first
            assert page.locator("#timeline-marks button").count() == 3
            items.nth(1).click()  # the collision, at 6.5 s
            page.wait_for_function("() => window.rootroute.drawn.t === 6.5", timeout=5000)
            drawn = page.evaluate("() => window.rootroute.drawn")
            assert drawn["true"][0] == pytest.approx(1.0 + 0.03 * 65, abs=0.01)
            assert drawn["odom"][0] != pytest.approx(drawn["true"][0], abs=0.01)  # drift shows
            assert drawn["scanPoints"] == 360
            page.locator("#findings li").first.click()  # the finding jumps to its moment
            page.wait_for_function("() => window.rootroute.drawn.t === 6.5", timeout=5000)
            page.locator("#timeline-marks button").first.click()
            page.wait_for_function("() => window.rootroute.drawn.t === 2", timeout=5000)
            page.click("#lang-en")
            assert "collision" in page.locator("#events li").nth(1).inner_text()
            shots = Path(__file__).resolve().parents[3] / "runs/test-screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "replay.png"))
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"http://localhost:{port}/" in out


def test_judge_reports_station_reached_and_keep_out_entered_once_as_events():
    from common_pkg.worldspec import Pose2D
    from curriculum_pkg.episode import EpisodeJudge

    scenario = load_scenario(SCENARIO)
    judge = EpisodeJudge(scenario, scenario.world)
    first = scenario.tasks[0]
    stop = scenario.station(first.station_id).stop_xy
    keep_out = next(z for z in scenario.world.zones if z.kind == "keep_out")
    inside = Pose2D(*keep_out.center_xy, 0.0)
    for t in (0.0, 0.1, 0.2):
        judge.update(t, inside, set())
    for i in range(40):
        judge.update(0.3 + 0.1 * i, Pose2D(*stop, 0.0), set())
    events = judge.drain_events()
    assert [e.kind for e in events] == ["keep_out", "task_done"]
    assert events[1].ko.startswith("스테이션 도착") and events[1].t_s >= 0.3
    assert judge.drain_events() == []
