"""Message-path benchmark: scan and camera latency from the simulator bridge to another process.

DESIGN.md's message-path target is "image and scan latency between processes". A child process
plays a student's node: an rclpy subscriber with the sensor-data QoS and Fast DDS's default
transport, recording when each message arrives (CLOCK_MONOTONIC, which every process on the
machine shares). This process publishes, timing each publish call on the same clock; the
latency of a message is its arrival there minus its publish call here, matched by header stamp.
Rows, on one leased ROS domain (localhost only), for --seconds each:
  scan,  reference   a bare rclpy publisher of a sensor_msgs/LaserScan like the LDS-01's
                     (360 float32 ranges) at 5 Hz, on /bench/scan
  scan,  bridge      sim_pkg's SimBridge on banwol_plating_01 at real-time factor 1, its /scan
                     (5 Hz), while it also renders and publishes the camera for the child
  image, reference   a bare publisher of a 640x480 rgb8 sensor_msgs/Image at 15 Hz, on
                     /bench/image
  image, bridge      the bridge's /camera/image_raw (15 Hz), the frame rendered by MuJoCo
Both publishers here use the camera transport profile (8 MiB of Fast DDS shared memory:
config/dds/fastdds_camera_shm.xml), as the bridge does in every run; the child keeps the
default, as a student's node does. A message that never arrives counts as lost.
The goal compares each bridge row with its bare reference: the bridge adds under 1 ms to the
median (ours; DESIGN.md names the metric, not a number).

Usage: MUJOCO_GL=egl .venv/bin/python benchmarks/bench_messages.py [--seconds 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import array
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, LaserScan
from tables import format_table  # benchmarks/tables.py, next to this script

from common_pkg.profile import load_profile
from common_pkg.worldspec import load_world
from sim_pkg.dds import use_camera_transport
from sim_pkg.domain import lease_domain
from sim_pkg.nodes.bridge_node import SimBridge, run_paced, sim_stamp, spin_in_background
from sim_pkg.world import SimWorld

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIO = REPO_ROOT / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml"
TOPICS = {
    "/bench/scan": "LaserScan",
    "/scan": "LaserScan",
    "/bench/image": "Image",
    "/camera/image_raw": "Image",
}

# The child: subscribe to every topic above, note arrivals, write them out on SIGTERM.
LISTENER = """
import json, signal, sys, time
import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, LaserScan
topics, out = json.loads(sys.argv[1]), sys.argv[2]
arrivals = {topic: {} for topic in topics}
rclpy.init()
node = rclpy.create_node("bench_listener")
def note(topic):
    def on_msg(msg):
        now = time.monotonic_ns()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        arrivals[topic].setdefault(str(stamp), now)
    return on_msg
for topic, kind in topics.items():
    node.create_subscription(
        {"Image": Image, "LaserScan": LaserScan}[kind], topic, note(topic), qos_profile_sensor_data
    )
running = [True]
signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
print("ready", flush=True)
while running[0]:
    rclpy.spin_once(node, timeout_sec=0.05)
with open(out, "w") as f:
    json.dump(arrivals, f)
"""


class PublishLog:
    """Wraps a publisher's publish(): the monotonic time of each call, by header stamp."""

    def __init__(self, publisher):
        self.sent: dict[int, int] = {}
        inner = publisher.publish

        def publish(msg) -> None:
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            self.sent[stamp] = time.monotonic_ns()
            inner(msg)

        publisher.publish = publish


def bare_rows(node, seconds: float) -> dict[str, PublishLog]:
    """The references: bare publishers of a scan at 5 Hz and a frame at 15 Hz."""
    profile = node.profile
    scan_pub = node.create_publisher(LaserScan, "/bench/scan", qos_profile_sensor_data)
    image_pub = node.create_publisher(Image, "/bench/image", qos_profile_sensor_data)
    logs = {"/bench/scan": PublishLog(scan_pub), "/bench/image": PublishLog(image_pub)}
    rng = np.random.default_rng(0)
    ranges = rng.uniform(0.12, 3.5, profile.lidar_samples).astype(np.float32)
    frame = rng.integers(0, 255, (profile.camera_height_px, profile.camera_width_px, 3), np.uint8)
    start = time.monotonic()
    next_scan = next_image = start
    while (now := time.monotonic()) < start + seconds:
        if now >= next_scan:
            msg = LaserScan()
            msg.header.stamp = sim_stamp(now - start)
            msg.ranges = array.array("f", ranges.tobytes())
            scan_pub.publish(msg)
            next_scan += 1.0 / profile.lidar_rate_hz
        if now >= next_image:
            img = Image(height=frame.shape[0], width=frame.shape[1], encoding="rgb8")
            img.header.stamp = sim_stamp(now - start + 1e-6)
            img.step = img.width * 3
            img.data = array.array("B", frame.tobytes())
            image_pub.publish(img)
            next_image += 1.0 / profile.camera_rate_hz
        time.sleep(max(0.0, min(next_scan, next_image) - time.monotonic()))
    return logs


def latencies_ms(sent: dict[int, int], arrived: dict[str, int]) -> tuple[list[float], int]:
    got = [(arrived[str(stamp)] - t) / 1e6 for stamp, t in sent.items() if str(stamp) in arrived]
    return got, len(sent) - len(got)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per part (bare, bridge)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    use_camera_transport()  # before this process's first participant, as the bridge does
    profile = load_profile()
    with lease_domain() as lease, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(lease.env())
        out = Path(tmp) / "arrivals.json"
        child_env = {**os.environ}
        child_env.pop("FASTRTPS_DEFAULT_PROFILES_FILE", None)  # a student's node: the default
        child_env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
        child = subprocess.Popen(
            [sys.executable, "-c", LISTENER, json.dumps(TOPICS), str(out)],
            env=child_env,
            stdout=subprocess.PIPE,
            text=True,
        )
        child.stdout.readline()  # "ready"
        rclpy.init(domain_id=lease.domain_id)
        world = SimWorld(load_world(SCENARIO), profile)
        bridge = SimBridge(world)
        executor = SingleThreadedExecutor()
        executor.add_node(bridge)
        spin_in_background(executor)
        logs = {
            "/scan": PublishLog(bridge._scan_pub),
            "/camera/image_raw": PublishLog(bridge._image_pub),
        }
        deadline = time.monotonic() + 20.0  # discovery: the bridge renders only when subscribed
        while bridge._image_pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the references' own publishers are matched within this
        logs.update(bare_rows(bridge, args.seconds))
        run_paced(bridge, world.time_s + args.seconds, 1.0)
        time.sleep(1.0)  # the last messages arrive
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
        arrivals = json.loads(out.read_text())
        executor.shutdown()
        bridge.destroy_node()
        world.close()
        rclpy.shutdown()

    rows, results = [], {}
    names = {
        "/bench/scan": ("scan", "reference: bare publisher"),
        "/scan": ("scan", "bridge /scan"),
        "/bench/image": ("image 640x480", "reference: bare publisher"),
        "/camera/image_raw": ("image 640x480", "bridge /camera/image_raw"),
    }
    for topic, (kind, row) in names.items():
        got, lost = latencies_ms(logs[topic].sent, arrivals.get(topic, {}))
        med = float(np.median(got)) if got else float("nan")
        p99 = float(np.percentile(got, 99)) if got else float("nan")
        results[topic] = {"median_ms": med, "p99_ms": p99, "received": len(got), "lost": lost}
        rows.append([kind, row, f"{med:.2f}", f"{p99:.2f}", str(len(got)), str(lost)])
    print(
        f"Latency from publish() here to the callback in another process, {args.seconds:g} s "
        f"per part, leased domain {lease.domain_id} (localhost only)\n"
    )
    print(
        format_table(["data", "row", "median ms", "p99 ms", "received", "lost"], rows, {2, 3, 4, 5})
    )
    print()
    for ref, ours in (("/bench/scan", "/scan"), ("/bench/image", "/camera/image_raw")):
        added = results[ours]["median_ms"] - results[ref]["median_ms"]
        print(
            f"{names[ours][1]}: {added:+.2f} ms over the bare publisher "
            f"({'PASS' if added < 1.0 else 'MISS'}, goal < +1 ms)"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
