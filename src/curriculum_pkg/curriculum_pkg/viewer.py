"""`rootroute view RECORDING.mcap`: replay a graded episode in the live view's page.

Reads the episode's MCAP (curriculum_pkg.recording): the floor plan, the true pose and the task
events the grader wrote into it (ros/replay_channels.py), /odom and /scan; and, from the result
folder the recording sits in, the report's findings. Serves them with sim_pkg.liveview: the page
draws the episode and lets the user play, scrub and jump to an event or a finding.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from common_pkg.errors import LocatedError
from common_pkg.worldspec import Pose2D
from curriculum_pkg.recording import (
    EPISODE_METADATA,
    EVENTS_TOPIC,
    GROUND_TRUTH_TOPIC,
    WORLD_METADATA,
)
from sim_pkg.liveview.scene import floor_plan, lidar_pose, scan_points
from sim_pkg.liveview.server import ViewServer, json_route

ODOM_PERIOD_S = 0.1  # what the replay keeps of the recording, in sim time
SCAN_PERIOD_S = 0.5
# Which events a report's criterion is about: clicking the finding jumps to the first of them.
FINDING_EVENTS = {
    "task": ("task_failed", "task_done"),
    "safety": ("collision", "keep_out", "hot_zone", "near_miss", "mux_intervention"),
    "efficiency": ("task_done",),
}


class ReplayError(LocatedError):
    """A file that is not an episode recording `rootroute view` can show."""


@dataclass
class Replay:
    title: dict
    scene: dict
    data: dict  # what /api/replay serves


def _yaw(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def _t(log_time_ns: int) -> float:
    return round(log_time_ns / 1e9, 3)


def load_replay(path: Path) -> Replay:
    """Everything the page needs from one recording (and the result.json next to it)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            reader = make_reader(f, decoder_factories=[DecoderFactory()])
            metadata = {m.name: dict(m.metadata) for m in reader.iter_metadata()}
            f.seek(0)
            reader = make_reader(f, decoder_factories=[DecoderFactory()])
            topics = (GROUND_TRUTH_TOPIC, EVENTS_TOPIC, "/odom", "/scan")
            rows = [
                (ch.topic, m.log_time, msg)
                for _s, ch, m, msg in reader.iter_decoded_messages(
                    topics=topics, log_time_order=True
                )
            ]
    except (OSError, McapError, ValueError) as exc:
        raise ReplayError(
            str(path),
            f"cannot read this recording: {exc}",
            f"이 기록 파일을 읽을 수 없습니다: {exc}",
        ) from exc
    episode = metadata.get(EPISODE_METADATA, {})
    world_meta = metadata.get(WORLD_METADATA)
    if world_meta is not None:
        scene = json.loads(world_meta["floor_plan"])
        origin = Pose2D(*json.loads(world_meta["odom_origin"]))
        title = {"ko": world_meta.get("title_ko", ""), "en": world_meta.get("title_en", "")}
        actors = json.loads(world_meta.get("actor_track", "[]"))
        tasks = int(world_meta.get("tasks", "0"))
    else:  # recorded before the grader wrote the world: the library's scenario, if it has it
        scene, origin, title, actors, tasks = _scene_from_library(path, episode)
    from common_pkg.profile import load_profile

    mount_x_m = float(load_profile().raw["lidar"]["mount_xyz_m"][0])
    truth, odom, scans, events = [], [], [], []
    next_odom = next_scan = -math.inf
    for topic, log_ns, msg in rows:
        t = _t(log_ns)
        if topic == GROUND_TRUTH_TOPIC:
            p = msg.pose
            truth.append(
                [t, round(p.position.x, 3), round(p.position.y, 3), round(_yaw(p.orientation), 3)]
            )
        elif topic == EVENTS_TOPIC:
            events.append(json.loads(msg.data))
        elif topic == "/odom" and t >= next_odom:
            next_odom = t + ODOM_PERIOD_S
            p = msg.pose.pose
            x, y = origin.transform_point((p.position.x, p.position.y))
            odom.append(
                [
                    t,
                    round(float(x), 3),
                    round(float(y), 3),
                    round(origin.yaw + _yaw(p.orientation), 3),
                ]
            )
        elif topic == "/scan" and t >= next_scan:
            next_scan = t + SCAN_PERIOD_S
            scans.append((t, msg))
    if not truth:  # no ground truth in the file: the robot where its odometry says
        truth = odom
    drawn_scans = []
    for t, msg in scans:
        pose = _last_before(truth, t)
        if pose is not None:
            sensor = lidar_pose(Pose2D(*pose[1:]), mount_x_m)
            drawn_scans.append(
                [
                    t,
                    scan_points(
                        msg.ranges, msg.angle_min, msg.angle_increment, sensor, msg.range_max
                    ),
                ]
            )
    duration = max([0.0] + [s[0] for s in truth] + [e["t_s"] for e in events])
    done = sum(e["kind"] == "task_done" for e in events)
    data = {
        "title": title,
        "episode": episode,
        "duration_s": round(duration, 3),
        "truth": truth,
        "odom": odom,
        "scans": drawn_scans,
        "actors": actors,
        "events": events,
        "findings": _findings(path, episode, events),
        "progress": None
        if not tasks
        else {"ko": f"과제 {done}/{tasks}개 완료", "en": f"{done} of {tasks} tasks done"},
    }
    return Replay(title, scene, data)


def _last_before(series: list, t: float):
    best = None
    for row in series:
        if row[0] > t:
            break
        best = row
    return best if best is not None else (series[0] if series else None)


def _scene_from_library(path: Path, episode: dict):
    from curriculum_pkg.scenario import load_scenario, resolve_scenario_path

    scenario_id = episode.get("scenario_id")
    try:
        scenario = load_scenario(resolve_scenario_path(scenario_id)).variant(
            int(episode.get("variant", 0)), int(episode.get("seed", 0))
        )
    except (LocatedError, OSError, TypeError, ValueError) as exc:
        raise ReplayError(
            str(path),
            f"the recording has no floor plan, and scenario {scenario_id!r} is not in the library",
            f"기록에 평면도가 없고, 시나리오 {scenario_id!r}도 라이브러리에 없습니다",
        ) from exc
    start = scenario.world.robot_start
    return floor_plan(scenario.world), start, scenario.title, [], len(scenario.tasks)


def _findings(path: Path, episode: dict, events: list[dict]) -> list[dict]:
    """The report's per-criterion feedback for this episode (result.json of the folder the
    recording is in), each linked to the moment of its first event."""
    result_json = path.resolve().parent.parent / "result.json"
    try:
        result = json.loads(result_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    name = path.name
    for ep in result.get("episodes", []):
        recording = (ep.get("recording") or {}).get("path") or ""
        if Path(recording).name != name:
            continue
        findings = []
        for c in ep.get("criteria", []):
            kinds = FINDING_EVENTS.get(c.get("key"), ())
            when = next((e["t_s"] for e in events if e["kind"] in kinds), None)
            if c.get("key") == "efficiency":
                done = [e["t_s"] for e in events if e["kind"] == "task_done"]
                when = done[-1] if done else None
            findings.append(
                {
                    "key": c.get("key"),
                    "t_s": when,
                    "ko": f"{c.get('points', 0):.1f}점 — {c.get('ko', '')}",
                    "en": f"{c.get('points', 0):.1f} points — {c.get('en', '')}",
                }
            )
        return findings
    return []


def serve_replay(replay: Replay, port: int) -> ViewServer:
    server = ViewServer(port)
    server.routes["/api/info"] = json_route({"mode": "replay", "title": replay.title})
    server.routes["/api/scene"] = json_route(replay.scene)
    server.routes["/api/replay"] = json_route(replay.data)
    server.start()
    return server


def serve_until_stopped(recording: Path, port: int) -> int:
    """`rootroute view RECORDING.mcap [--port N]`: serve the replay until Ctrl-C."""
    try:
        replay = load_replay(recording)
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    server = serve_replay(replay, port)
    print(
        f"다시 보기 / replay: {server.url}  (브라우저에서 여세요 / open it in a browser; "
        "Ctrl-C로 끝내기 / Ctrl-C to stop)",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
