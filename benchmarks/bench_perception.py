"""Perception benchmark: ArUco marker detection + pose per 640x480 frame.

Rows, on the same frames rendered by the simulator (the robot at 0.8-2.0 m from a station marker,
from different angles):
  reference   a bare `cv2.aruco.ArucoDetector.detectMarkers` call (same dictionary and detector
              parameters as ours) on the grey frame, with the colour conversion
  core        perception_pkg.markers.MarkerDetector.detect: detection plus a pose per marker
  node        the marker_detector node's whole image callback, called in-process on prepared
              sensor_msgs/Image messages: message to array, detection, pose, MarkerArray and
              PoseArray built and published
Goal (issue 5): the node's per-frame cost within 10 % of the bare cv2.aruco call.
"""

from __future__ import annotations

import argparse
import array
import dataclasses
import json
import math
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import cv2
import numpy as np

from perception_pkg.markers import MarkerDetector
from sim_pkg.profile import load_profile
from sim_pkg.world import SimWorld
from sim_pkg.worldspec import Pose2D, load_world

SCENARIO = (
    Path(__file__).resolve().parents[1] / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml"
)


def render_frames(count: int, seed: int) -> list[np.ndarray]:
    profile = load_profile()
    spec = load_world(SCENARIO)
    station = spec.stations[0]
    mx, my, _ = station.marker_center_xyz()
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        distance = rng.uniform(0.8, 2.0)
        side = math.radians(rng.uniform(-30, 30))
        back = station.facing_rad + math.pi + side
        start = Pose2D(
            mx + distance * math.cos(back),
            my + distance * math.sin(back),
            back - math.pi + math.radians(rng.uniform(-8, 8)),
        )
        world = SimWorld(dataclasses.replace(spec, robot_start=start), profile)
        world.step()
        frames.append(world.render_camera())
        world.close()
    return frames


def time_per_frame_ms(fn, items, repeats: int) -> list[float]:
    """Median over repeats of the per-item time, for each item (ms)."""
    per_item = []
    for item in items:
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - t0) * 1000)
        per_item.append(statistics.median(samples))
    return per_item


def node_callback_timer(frames: list[np.ndarray], k: np.ndarray):
    """The marker_detector node, in this process, and Image messages of the frames."""
    import rclpy
    from sensor_msgs.msg import Image

    from perception_pkg.nodes.marker_detector_node import MarkerDetectorNode
    from sim_pkg.domain import lease_domain

    lease = lease_domain()
    os.environ.update(lease.env())  # publishing goes nowhere: a private, localhost-only domain
    rclpy.init(domain_id=lease.domain_id)
    node = MarkerDetectorNode()
    node.k = k
    messages = []
    for frame in frames:
        msg = Image(
            height=frame.shape[0], width=frame.shape[1], encoding="rgb8", step=frame.shape[1] * 3
        )
        msg.header.frame_id = "camera_rgb_optical_frame"
        msg.data = array.array("B", frame.tobytes())
        messages.append(msg)

    def close() -> None:
        node.destroy_node()
        rclpy.shutdown()
        lease.release()

    return node.on_image, messages, close


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    t_start = time.perf_counter()
    frames = render_frames(args.frames, args.seed)
    profile = load_profile()
    f = (profile.camera_height_px / 2) / math.tan(profile.camera_vfov_rad / 2)
    k = np.array(
        [[f, 0, profile.camera_width_px / 2], [0, f, profile.camera_height_px / 2], [0, 0, 1]]
    )
    ours = MarkerDetector()
    bare = cv2.aruco.ArucoDetector(
        ours._detector.getDictionary(), ours._detector.getDetectorParameters()
    )

    def reference(frame):
        return bare.detectMarkers(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))

    found = sum(len(ours.detect(fr, k)) > 0 for fr in frames)
    callback, messages, close = node_callback_timer(frames, k)
    # Interleave the three so that machine noise hits them alike.
    rows = {
        "reference: bare cv2.aruco detectMarkers": [],
        "core: MarkerDetector.detect (+ pose)": [],
        "node: marker_detector image callback": [],
    }
    for frame, msg in zip(frames, messages, strict=True):
        rows["reference: bare cv2.aruco detectMarkers"] += time_per_frame_ms(
            reference, [frame], args.repeats
        )
        rows["core: MarkerDetector.detect (+ pose)"] += time_per_frame_ms(
            lambda fr: ours.detect(fr, k), [frame], args.repeats
        )
        rows["node: marker_detector image callback"] += time_per_frame_ms(
            callback, [msg], args.repeats
        )
    close()

    ref = statistics.median(rows["reference: bare cv2.aruco detectMarkers"])
    print(
        f"{len(frames)} frames 640x480 rendered by the simulator, marker found in {found}; "
        f"median of {args.repeats} runs per frame; opencv {cv2.__version__}"
    )
    print()
    header = f"{'row':<42} {'median ms':>9} {'p90 ms':>7} {'x ref':>6}  goal"
    print(header)
    print("-" * len(header))
    results = {}
    for name, samples in rows.items():
        med = statistics.median(samples)
        p90 = float(np.percentile(samples, 90))
        goal = ""
        if name.startswith("node"):
            overhead = med / ref - 1.0
            goal = f"{'PASS' if overhead < 0.10 else 'MISS'} (overhead {overhead:+.1%}, goal < 10%)"
        print(f"{name:<42} {med:>9.2f} {p90:>7.2f} {med / ref:>6.2f}  {goal}")
        results[name] = {"median_ms": med, "p90_ms": p90, "per_frame_ms": samples}
    print(f"\nbenchmark wall time {time.perf_counter() - t_start:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
