"""Safety mux latency benchmark: a command's trip through safety_mux, against a plain relay.

Every row sends the same stream of geometry_msgs/TwistStamped (reliable, keep last 10, the mux's
QoS) from this process, one message every 52-68 ms (seeded jitter, longer than the mux's 50 ms
output period so that every input gets its own fixed-rate output too), after 10 warm-up messages.
The mux's /cmd_vel_teleop and /cmd_vel are remapped to /bench/<row>/in and /out; all children
start together (start-up is not timed), then the rows run one after another. Each message carries its id in linear.x (0.001-0.25 m/s, inside the robot's
limits), so an output is matched to its input by value. Rows, one child process each, on one
leased ROS domain, localhost only:
  direct pub->sub    a child subscriber: 1 hop, latency = arrival - send (CLOCK_MONOTONIC, which
                     every process on the machine shares)
  relay (reference)  a child rclpy node that republishes each message from its callback:
                     2 hops, the least any Python node in the middle can cost
  mux on input       teleop_pkg safety_mux, publish_on_input:=true (its default): it publishes at
                     once on a new input, and at rate_hz as a keep-alive
  mux fixed rate     the same with publish_on_input:=false: the input waits for the next 20 Hz tick
For the 2-hop rows the latency is: the first output arriving here with the input's value - its
send time. The mux runs with require_scan:=false (no /scan here) and acceleration limits of
1000 m/s^2 and rad/s^2, so that its output equals its input; everything else is as deployed.

Usage: .venv/bin/python benchmarks/bench_mux.py [--messages 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tables import format_table  # benchmarks/tables.py, next to this script

REPO_ROOT = Path(__file__).resolve().parents[1]
WARMUP = 10
GAP_MS = (52.0, 68.0)  # between two inputs
MUX_RATE_HZ = 20.0
ROWS = [  # key, label, hops, what runs in the child
    ("direct", "direct pub->sub", 1, "sink"),
    ("relay", "relay node (reference)", 2, "relay"),
    ("mux_on_input", "safety_mux on input", 2, "mux true"),
    ("mux_fixed_rate", f"safety_mux fixed {MUX_RATE_HZ:g} Hz", 2, "mux false"),
]


def qos():
    from rclpy.qos import QoSProfile

    return QoSProfile(depth=10)  # reliable, volatile: the mux's own


VALUES = 250  # distinct values in linear.x; ids wrap around after that


def slot_of(linear_mps: float) -> int:
    return round(linear_mps * 1000.0) - 1


def value_of(message_id: int) -> float:
    return 0.001 * (1 + message_id % VALUES)


# --------------------------------------------------------------------------- child processes
def run_child(kind: str, prefix: str, out_path: str | None) -> None:
    """`relay`: republish <prefix>/in on <prefix>/out. `sink`: record 1-hop latencies."""
    import rclpy
    from geometry_msgs.msg import TwistStamped
    from rclpy.executors import ExternalShutdownException

    rclpy.init()
    node = rclpy.create_node(f"bench_{kind}")
    records: list[tuple[int, float]] = []
    if kind == "relay":
        pub = node.create_publisher(TwistStamped, f"{prefix}/out", qos())
        node.create_subscription(TwistStamped, f"{prefix}/in", pub.publish, qos())
    else:

        def on_message(msg: TwistStamped) -> None:
            sent_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            records.append((msg.header.frame_id, (time.monotonic_ns() - sent_ns) / 1e6))

        node.create_subscription(TwistStamped, f"{prefix}/in", on_message, qos())
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if out_path:
            Path(out_path).write_text(json.dumps(records))
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


def start_child(what: str, prefix: str, env: dict, out_path: Path) -> subprocess.Popen:
    args = what.split()
    if args[0] == "mux":
        cmd = [sys.executable, "-m", "teleop_pkg.nodes.safety_mux_node", "--ros-args"]
        cmd += ["-r", f"/cmd_vel_teleop:={prefix}/in", "-r", f"/cmd_vel:={prefix}/out"]
        cmd += ["-r", "__node:=" + prefix.strip("/").replace("/", "_")]
        params = {
            "require_scan": "false",
            "max_linear_accel_mps2": "1000.0",
            "max_angular_accel_rps2": "1000.0",
            "rate_hz": str(MUX_RATE_HZ),
            "publish_on_input": args[1],
        }
        for key, value in params.items():
            cmd += ["-p", f"{key}:={value}"]
    else:
        cmd = [sys.executable, __file__, "--child", what, "--prefix", prefix]
        cmd += ["--child-out", str(out_path)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_child(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # rclpy on Humble and Jazzy shuts down cleanly on SIGINT
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------- one row
def run_row(node, executor, prefix: str, hops: int, messages: int, rng) -> dict[int, float]:
    """Send the stream to <prefix>/in; for 2 hops, {id: latency ms} of what came back."""
    from geometry_msgs.msg import TwistStamped

    sent_ns: dict[int, int] = {}
    latest_id: dict[int, int] = {}  # value slot -> newest id sent with that value
    latencies_ms: dict[int, float] = {}

    def on_output(msg: TwistStamped) -> None:
        now_ns = time.monotonic_ns()
        message_id = latest_id.get(slot_of(msg.twist.linear.x))
        if message_id is not None and message_id not in latencies_ms:  # the first arrival only
            latencies_ms[message_id] = (now_ns - sent_ns[message_id]) / 1e6

    pub = node.create_publisher(TwistStamped, f"{prefix}/in", qos())
    sub = node.create_subscription(TwistStamped, f"{prefix}/out", on_output, qos())
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline and not (
        pub.get_subscription_count() > 0 and (hops == 1 or sub.get_publisher_count() > 0)
    ):
        executor.spin_once(timeout_sec=0.05)
    next_ns = time.monotonic_ns()
    for message_id in range(WARMUP + messages):
        while time.monotonic_ns() < next_ns:
            executor.spin_once(timeout_sec=max(0.0, (next_ns - time.monotonic_ns()) / 1e9))
        msg = TwistStamped()
        msg.twist.linear.x = value_of(message_id)
        msg.header.frame_id = str(message_id)
        now_ns = time.monotonic_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now_ns, 1_000_000_000)
        sent_ns[message_id] = now_ns
        latest_id[message_id % VALUES] = message_id
        pub.publish(msg)
        next_ns = now_ns + int(rng.uniform(*GAP_MS) * 1e6)
    end = time.monotonic() + 0.3  # stragglers
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    node.destroy_publisher(pub)
    node.destroy_subscription(sub)
    return latencies_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100, help="timed messages per row")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the send-time jitter")
    parser.add_argument("--child", choices=["relay", "sink"], help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)  # children also get --ros-args
    if args.child:
        run_child(args.child, args.prefix, args.child_out)
        return 0
    if args.messages < 2:
        parser.error("--messages must be >= 2")

    import tempfile

    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from sim_pkg.domain import lease_domain

    lease = lease_domain()
    env = {**os.environ, **lease.env()}
    os.environ.update(lease.env())  # this process too
    rclpy.init()
    node = rclpy.create_node("bench_mux")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{args.messages} TwistStamped per row (+{WARMUP} warm-up), every {GAP_MS[0]:g}-"
        f"{GAP_MS[1]:g} ms, reliable depth 10, ROS_DOMAIN_ID {lease.domain_id} (localhost)\n"
        f"python {platform.python_version()}, {cores} cores usable, "
        f"RMW {os.environ.get('RMW_IMPLEMENTATION', 'default (Fast DDS)')}\n"
    )
    bench_start_s = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        children = {
            key: start_child(what, f"/bench/{key}", env, Path(tmp) / f"{key}.json")
            for key, _, _, what in ROWS
        }
        try:
            for key, label, hops, _ in ROWS:
                rng = random.Random(args.seed)  # the same send times on every row
                lat = run_row(node, executor, f"/bench/{key}", hops, args.messages, rng)
                results.append({"key": key, "label": label, "hops": hops, "by_id": lat})
        finally:
            for proc in children.values():
                stop_child(proc)
        sink_path = Path(tmp) / "direct.json"
        records = json.loads(sink_path.read_text()) if sink_path.exists() else []
        results[0]["by_id"] = {int(mid): ms for mid, ms in records}
    for r in results:
        r["latencies_ms"] = [ms for mid, ms in sorted(r.pop("by_id").items()) if mid >= WARMUP]
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown()
    lease.release()
    bench_wall_s = time.perf_counter() - bench_start_s

    def stat(lat: list[float], q: float) -> float:
        return float(np.percentile(lat, q)) if lat else float("nan")

    relay_median = stat(results[1]["latencies_ms"], 50)
    rows = []
    for r in results:
        lat = r["latencies_ms"]
        r.update({f"p{q}_ms": stat(lat, q) for q in (50, 90, 99)})
        r["max_ms"] = max(lat) if lat else float("nan")
        r["delivered"] = len(lat)
        rows.append(
            [
                r["label"],
                str(r["hops"]),
                f"{len(lat)}/{args.messages}",
                f"{r['p50_ms']:.2f}",
                f"{r['p90_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['max_ms']:.2f}",
                f"{r['p50_ms'] / relay_median:.2f}",
            ]
        )
    print(
        format_table(
            ["row", "hops", "delivered", "median ms", "p90 ms", "p99 ms", "max ms", "x relay"],
            rows,
            right_align={1, 2, 3, 4, 5, 6, 7},
        )
    )
    period_ms = 1000.0 / MUX_RATE_HZ
    print(
        f"\nfixed rate alone waits for the next tick: {period_ms / 2:g} ms on average, up to "
        f"{period_ms:g} ms; benchmark wall time {bench_wall_s:.1f} s"
    )
    if args.json:
        report = {
            "messages": args.messages,
            "warmup": WARMUP,
            "gap_ms": GAP_MS,
            "mux_rate_hz": MUX_RATE_HZ,
            "environment": {"python": platform.python_version(), "cores": cores},
            "rows": results,
            "benchmark_wall_s": bench_wall_s,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
