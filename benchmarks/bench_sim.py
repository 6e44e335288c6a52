"""Simulation speed benchmark: real-time factor (RTF) of SimWorld with and without sensors.

Measured on the scenario `banwol_plating_01` with the default robot profile, the robot driving a
gentle circle (command_base(0.15 m/s, 0.3 rad/s) every control step) for `--seconds` simulated
seconds. RTF = simulated seconds / wall seconds (time.perf_counter); higher is faster. Each row
runs at least `--repeats` times (sub-second rows more, for a steadier number) and the median run
is reported; world building and renderer warm-up are outside the timed loop.

Rows, each on a freshly built world:
  reference        a raw `mujoco.mj_step(model, data)` loop on the same model, same number of
                   physics steps, no sensors -- the named reference every row is compared against
  physics          SimWorld.step() (+ command_base) only
  + lidar          + scan() at the profile's lidar rate, odometry()/joint_states() at theirs
  + camera         + render_camera() (lean EGL scene) at the profile's camera rate
  + naive camera   same world with MuJoCo's default shadow-casting light and 4096 px shadow map
and the two camera rows again at 320x240. Sensor calls are scheduled on simulated time the way
the bridge node does. Goals (from the issue, on 2 cores): RTF >= 20 with lidar, >= 3 with camera.
A missed goal is printed, never turned into a non-zero exit code.

Usage: MUJOCO_GL=egl .venv/bin/python benchmarks/bench_sim.py [--seconds 20] [--json out.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # headless rendering; osmesa fails on these machines

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

import mujoco
from tables import format_table  # benchmarks/tables.py, next to this script

from common_pkg.profile import RobotProfile, load_profile
from common_pkg.worldspec import load_world
from sim_pkg.world import SimWorld

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIO_PATH = REPO_ROOT / "src" / "curriculum_pkg" / "scenarios" / "banwol_plating_01.yaml"
CIRCLE_LINEAR_MPS = 0.15
CIRCLE_ANGULAR_RPS = 0.3
GOAL_RTF_LIDAR = 20.0
GOAL_RTF_CAMERA = 3.0
SMALL_FRAME_PX = (320, 240)  # width, height
MIN_ROW_WALL_S = 1.5  # keep repeating a row until its runs add up to this much wall time...
MAX_RUNS_PER_ROW = 15  # ...but never more than this many runs


@dataclasses.dataclass(frozen=True)
class RowSpec:
    key: str
    label: str
    lidar: bool = False
    camera: str = ""  # "", "lean" (world.render_camera) or "naive" (plain mujoco.Renderer)
    frame_px: tuple[int, int] | None = None  # (width, height); None = the profile's size
    goal_rtf: float | None = None
    reference: bool = False


@dataclasses.dataclass
class CallTimer:
    """Accumulates the wall time of one kind of call (a sensor read or a render)."""

    calls: int = 0
    wall_s: float = 0.0

    @property
    def mean_ms(self) -> float:
        return 1000.0 * self.wall_s / self.calls if self.calls else float("nan")


class RateSchedule:
    """Fires every `period_s` of simulated time, the same rule the bridge node uses."""

    def __init__(self, rate_hz: float):
        self.period_s = 1.0 / rate_hz
        self.next_due_s = 0.0

    def due(self, now_s: float) -> bool:
        if now_s + 1e-9 < self.next_due_s:
            return False
        missed = int((now_s - self.next_due_s) // self.period_s)
        self.next_due_s += self.period_s * max(1, missed + 1)
        return True


def frame_profile(profile: RobotProfile, frame_px: tuple[int, int] | None) -> RobotProfile:
    if frame_px is None:
        return profile
    width_px, height_px = frame_px
    return dataclasses.replace(profile, camera_width_px=width_px, camera_height_px=height_px)


def make_world(profile: RobotProfile) -> SimWorld:
    return SimWorld(load_world(SCENARIO_PATH), profile, seed=0)


class NaiveCamera:
    """The same world as a straightforward MJCF would have it: MuJoCo's defaults for the light
    (casts shadows) and the shadow map (4096 px), rendered with default scene flags.

    It renders a copy of the model whose pose is synced from the simulated world every frame.
    """

    def __init__(self, world: SimWorld):
        xml = world.mjcf.replace(' shadowsize="0"', "").replace(
            'castshadow="false"', 'castshadow="true"'
        )
        self.model = mujoco.MjModel.from_xml_string(xml, world.assets)
        self.data = mujoco.MjData(self.model)
        p = world.profile
        self.renderer = mujoco.Renderer(self.model, p.camera_height_px, p.camera_width_px)

    def render(self, world: SimWorld):
        self.data.qpos[:] = world.data.qpos
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_camlight(self.model, self.data)
        self.renderer.update_scene(self.data, camera="front_camera")
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def make_naive_renderer(world: SimWorld) -> NaiveCamera:
    return NaiveCamera(world)


def render_naive(camera: NaiveCamera, world: SimWorld):
    return camera.render(world)


def run_reference(profile: RobotProfile, control_steps: int) -> dict:
    """Raw mj_step loop, one Python call per physics step, wheels driving the same circle."""
    world = make_world(profile)
    world.command_base(CIRCLE_LINEAR_MPS, CIRCLE_ANGULAR_RPS)
    world.step()  # sets the wheel controls; raw mj_step leaves data.ctrl as it is
    model, data = world.model, world.data
    physics_steps = control_steps * round(profile.control_period_s / profile.physics_timestep_s)
    sim_start_s = data.time
    wall_start_s = time.perf_counter()
    for _ in range(physics_steps):
        mujoco.mj_step(model, data)
    wall_s = time.perf_counter() - wall_start_s
    world.close()
    return {"sim_seconds": data.time - sim_start_s, "wall_s": wall_s, "calls": {}}


def run_sim_row(row: RowSpec, profile: RobotProfile, control_steps: int) -> dict:
    world = make_world(frame_profile(profile, row.frame_px))
    naive_renderer = None
    # Warm up the renderer outside the timed loop: the first render creates the EGL context.
    if row.camera == "lean":
        world.render_camera()
    elif row.camera == "naive":
        naive_renderer = make_naive_renderer(world)
        render_naive(naive_renderer, world)

    lidar_schedule = RateSchedule(profile.lidar_rate_hz)
    odom_schedule = RateSchedule(profile.odom_rate_hz)
    joints_topic = profile.topics.get("joint_states")
    joints_schedule = RateSchedule((joints_topic and joints_topic.rate_hz) or profile.odom_rate_hz)
    camera_schedule = RateSchedule(profile.camera_rate_hz)
    scan_timer, render_timer = CallTimer(), CallTimer()

    sim_start_s = world.time_s
    wall_start_s = time.perf_counter()
    for _ in range(control_steps):
        world.command_base(CIRCLE_LINEAR_MPS, CIRCLE_ANGULAR_RPS)
        world.step()
        if not row.lidar:
            continue
        now_s = world.time_s
        if lidar_schedule.due(now_s):
            call_start_s = time.perf_counter()
            world.scan()
            scan_timer.wall_s += time.perf_counter() - call_start_s
            scan_timer.calls += 1
        if odom_schedule.due(now_s):
            world.odometry()
        if joints_schedule.due(now_s):
            world.joint_states()
        if row.camera and camera_schedule.due(now_s):
            call_start_s = time.perf_counter()
            if naive_renderer is not None:
                render_naive(naive_renderer, world)
            else:
                world.render_camera()
            render_timer.wall_s += time.perf_counter() - call_start_s
            render_timer.calls += 1
    wall_s = time.perf_counter() - wall_start_s
    sim_seconds = world.time_s - sim_start_s

    if naive_renderer is not None:
        naive_renderer.close()
    world.close()
    calls = {}
    if scan_timer.calls:
        calls["scan"] = scan_timer
    if render_timer.calls:
        calls["render"] = render_timer
    return {"sim_seconds": sim_seconds, "wall_s": wall_s, "calls": calls}


def gl_renderer_name(profile: RobotProfile) -> str:
    """The OpenGL implementation EGL gave us (e.g. a GPU, or llvmpipe = software on the CPU)."""
    try:
        world = make_world(profile)
        world.render_camera()  # makes the context current
        from OpenGL import GL

        name = GL.glGetString(GL.GL_RENDERER).decode()
        world.close()
        return name
    except Exception as exc:  # diagnostic only; never fail the benchmark over it
        return f"unknown ({type(exc).__name__})"


def build_rows(profile: RobotProfile) -> list[RowSpec]:
    size = f"{profile.camera_width_px}x{profile.camera_height_px}"
    small = f"{SMALL_FRAME_PX[0]}x{SMALL_FRAME_PX[1]}"
    return [
        RowSpec("reference", "reference: raw mj_step loop", reference=True),
        RowSpec("physics", "SimWorld physics only"),
        RowSpec("lidar", "+ lidar, odom, joints", lidar=True, goal_rtf=GOAL_RTF_LIDAR),
        RowSpec(
            "camera",
            f"+ camera lean {size}",
            lidar=True,
            camera="lean",
            goal_rtf=GOAL_RTF_CAMERA,
        ),
        RowSpec("camera_naive", f"+ camera naive {size}", lidar=True, camera="naive"),
        RowSpec(
            "camera_small",
            f"+ camera lean {small}",
            lidar=True,
            camera="lean",
            frame_px=SMALL_FRAME_PX,
        ),
        RowSpec(
            "camera_naive_small",
            f"+ camera naive {small}",
            lidar=True,
            camera="naive",
            frame_px=SMALL_FRAME_PX,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated seconds per row")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="minimum runs per row (cheap rows repeat until ~1.5 wall s); the median is reported",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.repeats < 1:
        parser.error("--seconds must be > 0 and --repeats >= 1")

    profile = load_profile()
    control_steps = max(1, round(args.seconds / profile.control_period_s))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gl_name = gl_renderer_name(profile)
    print(
        f"scenario {SCENARIO_PATH.relative_to(REPO_ROOT)}, profile {profile.name}\n"
        f"{args.seconds:g} simulated s per row ({control_steps} control steps of "
        f"{profile.control_period_s * 1000:g} ms), median of >= {args.repeats} runs; "
        f"driving command_base({CIRCLE_LINEAR_MPS}, {CIRCLE_ANGULAR_RPS})\n"
        f"rates: lidar {profile.lidar_rate_hz:g} Hz, camera {profile.camera_rate_hz:g} Hz, "
        f"odom {profile.odom_rate_hz:g} Hz\n"
        f"mujoco {mujoco.__version__}, python {platform.python_version()}, {cores} cores usable, "
        f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}, GL renderer: {gl_name}\n"
    )

    bench_start_s = time.perf_counter()
    results = []
    for row in build_rows(profile):
        runs = []
        # Sub-second rows are noisy on a shared 2-core machine: repeat them for a steadier median.
        while len(runs) < args.repeats or (
            sum(run["wall_s"] for run in runs) < MIN_ROW_WALL_S and len(runs) < MAX_RUNS_PER_ROW
        ):
            if row.reference:
                runs.append(run_reference(profile, control_steps))
            else:
                runs.append(run_sim_row(row, profile, control_steps))
        rtfs = [run["sim_seconds"] / run["wall_s"] for run in runs]
        median_run = sorted(runs, key=lambda run: run["sim_seconds"] / run["wall_s"])[
            len(runs) // 2
        ]
        calls: dict[str, CallTimer] = {}
        for run in runs:  # per-call costs pooled over every repeat
            for name, timer in run["calls"].items():
                total = calls.setdefault(name, CallTimer())
                total.calls += timer.calls
                total.wall_s += timer.wall_s
        results.append(
            {
                "row": row,
                "rtf": median_run["sim_seconds"] / median_run["wall_s"],
                "rtf_runs": rtfs,
                "sim_seconds": median_run["sim_seconds"],
                "wall_s": median_run["wall_s"],
                "calls": calls,
            }
        )
    bench_wall_s = time.perf_counter() - bench_start_s

    reference_rtf = results[0]["rtf"]
    table_rows = []
    for result in results:
        row = result["row"]
        goal = ""
        if row.goal_rtf is not None:
            verdict = "PASS" if result["rtf"] >= row.goal_rtf else "FAIL"
            goal = f"{verdict} (>= {row.goal_rtf:g})"
        table_rows.append(
            [
                row.label,
                f"{result['sim_seconds']:.2f}",
                f"{result['wall_s']:.3f}",
                f"{result['rtf']:.1f}",
                str(len(result["rtf_runs"])),
                f"{min(result['rtf_runs']):.1f}-{max(result['rtf_runs']):.1f}",
                f"{result['rtf'] / reference_rtf:.2f}",
                goal,
            ]
        )
    print(
        format_table(
            ["row", "sim s", "wall s", "RTF", "runs", "RTF min-max", "x ref", "goal"],
            table_rows,
            right_align={1, 2, 3, 4, 5, 6},
        )
    )

    by_key = {result["row"].key: result for result in results}
    size = f"{profile.camera_width_px}x{profile.camera_height_px}"
    small = f"{SMALL_FRAME_PX[0]}x{SMALL_FRAME_PX[1]}"
    per_call = [
        (f"scan() {profile.lidar_samples} rays", "lidar", "scan"),
        (f"render_camera() lean {size}", "camera", "render"),
        (f"naive Renderer {size}", "camera_naive", "render"),
        (f"render_camera() lean {small}", "camera_small", "render"),
        (f"naive Renderer {small}", "camera_naive_small", "render"),
    ]
    call_rows, per_call_ms = [], {}
    for label, key, call in per_call:
        timer = by_key[key]["calls"].get(call, CallTimer())
        per_call_ms[f"{key}.{call}"] = {"calls": timer.calls, "mean_ms": timer.mean_ms}
        call_rows.append([label, str(timer.calls), f"{timer.mean_ms:.3f}"])
    print()
    print(format_table(["per call", "calls", "mean ms"], call_rows, right_align={1, 2}))

    lean_ms = by_key["camera"]["calls"]["render"].mean_ms
    naive_ms = by_key["camera_naive"]["calls"]["render"].mean_ms
    print(
        f"\nlean scene saves {naive_ms - lean_ms:.2f} ms per frame "
        f"({100.0 * (naive_ms - lean_ms) / naive_ms:.0f}% of a naive render); "
        f"benchmark wall time {bench_wall_s:.1f} s"
    )
    missed = [r["row"].label for r in results if r["row"].goal_rtf and r["rtf"] < r["row"].goal_rtf]
    if missed:
        print(f"GOAL MISSED: {', '.join(missed)} (on {cores} cores)")
    else:
        print(f"all goals met (on {cores} cores)")

    if args.json:
        report = {
            "scenario": str(SCENARIO_PATH.relative_to(REPO_ROOT)),
            "profile": profile.name,
            "sim_seconds_per_row": args.seconds,
            "repeats": args.repeats,
            "command": {"linear_mps": CIRCLE_LINEAR_MPS, "angular_rps": CIRCLE_ANGULAR_RPS},
            "rates_hz": {
                "lidar": profile.lidar_rate_hz,
                "camera": profile.camera_rate_hz,
                "odom": profile.odom_rate_hz,
            },
            "environment": {
                "mujoco": mujoco.__version__,
                "python": platform.python_version(),
                "cores": cores,
                "mujoco_gl": os.environ.get("MUJOCO_GL"),
                "gl_renderer": gl_name,
            },
            "rows": [
                {
                    "key": r["row"].key,
                    "label": r["row"].label,
                    "sim_seconds": r["sim_seconds"],
                    "wall_s": r["wall_s"],
                    "rtf": r["rtf"],
                    "rtf_runs": r["rtf_runs"],
                    "rtf_vs_reference": r["rtf"] / reference_rtf,
                    "goal_rtf": r["row"].goal_rtf,
                    "goal_met": None
                    if r["row"].goal_rtf is None
                    else r["rtf"] >= r["row"].goal_rtf,
                }
                for r in results
            ],
            "per_call_ms": per_call_ms,
            "benchmark_wall_s": bench_wall_s,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
