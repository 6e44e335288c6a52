"""Arm IK speed benchmark: solves per second of the closed-form OpenMANIPULATOR-X IK, against ikpy.

Targets are made by forward kinematics of random joint vectors drawn uniformly within the joint
limits (`--seed`), so every target (position in the link1 frame + tool pitch) is reachable. The
same targets, in the same order, go to every row (each row takes the first n of them):

  ours batched   planning_pkg.arm_kinematics.inverse_kinematics_batch on all `--targets` at once
  ours scalar    inverse_kinematics (all solutions of one target) in a Python loop, first solution
  ikpy X         the named reference: ikpy.chain.Chain built from the same profile numbers (joint
                 offsets, axes z, y, y, y, limits), orientation_mode="X" with the tool x axis of
                 the target (from its pitch and the joint1 angle that made it) as target
                 orientation, ikpy's default start (every joint at 0)
  ikpy position  the same chain, position only (no orientation target)

A solve succeeds when OUR forward kinematics of the returned joint vector is within 1 mm of the
target position and 1e-3 rad of its pitch (and inside the joint limits). Every row repeats and the
median run is reported; ikpy, at several ms per solve, runs 3 times on fewer targets. Before
timing, ikpy's FK of the chain is checked against ours. Goal: the batched rate >= 100x ikpy X's
rate, at a success rate >= ikpy X's. A miss is printed, never turned into a non-zero exit code.

Usage: .venv/bin/python benchmarks/bench_ik.py [--seed 0] [--targets 20000] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import ikpy
import numpy as np
import scipy
from ikpy.chain import Chain
from ikpy.link import OriginLink, URDFLink
from tables import format_table  # benchmarks/tables.py, next to this script

from common_pkg.profile import load_profile
from planning_pkg.arm_kinematics import (
    ArmGeometry,
    forward_kinematics,
    inverse_kinematics,
    inverse_kinematics_batch,
)

GOAL_SPEEDUP = 100.0
POSITION_TOL_M = 1e-3
PITCH_TOL_RAD = 1e-3
FK_CHECK_SAMPLES = 500
FK_CHECK_TOL = 1e-9
SCALAR_TARGETS = 2000  # at most this many for the Python-loop row...
IKPY_TARGETS = 200  # ...and for each ikpy row (several ms per solve)
MIN_ROW_WALL_S = 1.0  # repeat a fast row until its runs add up to this much wall time...
MIN_RUNS, MAX_RUNS = 5, 25  # ...with at least / at most this many runs
IKPY_RUNS = 3  # an ikpy row runs this many times (about 1-3 s each)


@dataclasses.dataclass(frozen=True)
class Targets:
    q_true: np.ndarray  # (N, 4) joint vectors the targets were made from
    xyz: np.ndarray  # (N, 3) link1 frame, m
    pitch: np.ndarray  # (N,) rad

    def head(self, n: int) -> Targets:
        return Targets(self.q_true[:n], self.xyz[:n], self.pitch[:n])


def make_targets(geom: ArmGeometry, n: int, seed: int) -> Targets:
    rng = np.random.default_rng(seed)
    q_true = rng.uniform(geom.lower_rad, geom.upper_rad, size=(n, 4))
    pose = forward_kinematics(geom, q_true)
    return Targets(q_true, pose[:, :3], pose[:, 3])


def tool_x_axis(yaw_rad: np.ndarray, pitch_rad: np.ndarray) -> np.ndarray:
    """The tool x axis in the link1 frame: Rz(yaw) Ry(pitch) (1, 0, 0), shape (N, 3)."""
    return np.stack(
        [
            np.cos(pitch_rad) * np.cos(yaw_rad),
            np.cos(pitch_rad) * np.sin(yaw_rad),
            -np.sin(pitch_rad),
        ],
        axis=-1,
    )


def build_ikpy_chain(geom: ArmGeometry) -> Chain:
    """The arm as an ikpy chain rooted at link1: joint1 about z, joints 2-4 about y, tool fixed."""
    offsets = (
        geom.joint1_offset_m,
        geom.joint2_offset_m,
        geom.joint3_offset_m,
        geom.joint4_offset_m,
    )
    axes = ((0, 0, 1), (0, 1, 0), (0, 1, 0), (0, 1, 0))
    joints = [
        URDFLink(
            name=name,
            origin_translation=np.array(offset),
            origin_orientation=np.zeros(3),
            rotation=np.array(axis, dtype=float),
            bounds=(lower, upper),
        )
        for name, offset, axis, lower, upper in zip(
            geom.joint_names, offsets, axes, geom.lower_rad, geom.upper_rad, strict=True
        )
    ]
    tool = URDFLink(
        name="end_effector",
        origin_translation=np.array(geom.end_effector_offset_m),
        origin_orientation=np.zeros(3),
        joint_type="fixed",
    )
    links = [OriginLink(), *joints, tool]
    return Chain(links, active_links_mask=[False, True, True, True, True, False], name="omx")


def ikpy_full(q: np.ndarray) -> list[float]:
    return [0.0, *q, 0.0]


def check_ikpy_fk(chain: Chain, geom: ArmGeometry, seed: int) -> tuple[float, float]:
    """Max |ikpy FK - our FK| over random joint vectors: position (m) and tool x axis."""
    q = make_targets(geom, FK_CHECK_SAMPLES, seed + 1).q_true
    ours = forward_kinematics(geom, q)
    frames = np.array([chain.forward_kinematics(ikpy_full(row)) for row in q])
    position_diff = np.abs(frames[:, :3, 3] - ours[:, :3]).max()
    axis_diff = np.abs(frames[:, :3, 0] - tool_x_axis(q[:, 0], ours[:, 3])).max()
    return float(position_diff), float(axis_diff)


def solve_batched(geom: ArmGeometry, targets: Targets) -> np.ndarray:
    q, _ok = inverse_kinematics_batch(geom, targets.xyz, targets.pitch)
    return q


def solve_scalar(geom: ArmGeometry, targets: Targets) -> np.ndarray:
    q = np.full((len(targets.pitch), 4), np.nan)
    for i, (xyz, pitch) in enumerate(zip(targets.xyz, targets.pitch, strict=True)):
        solutions = inverse_kinematics(geom, xyz, pitch)
        if solutions:
            q[i] = solutions[0]
    return q


def solve_ikpy(chain: Chain, targets: Targets, orientation: bool) -> np.ndarray:
    q = np.empty((len(targets.pitch), 4))
    axes = tool_x_axis(targets.q_true[:, 0], targets.pitch)
    for i, xyz in enumerate(targets.xyz):
        if orientation:
            full = chain.inverse_kinematics(xyz, axes[i], orientation_mode="X")
        else:
            full = chain.inverse_kinematics(xyz)
        q[i] = full[1:5]
    return q


def score(geom: ArmGeometry, q: np.ndarray, targets: Targets) -> dict:
    """Errors of the returned joint vectors, by our FK; a row of NaN (no solution) fails."""
    reached = forward_kinematics(geom, q)
    position_err_m = np.linalg.norm(reached[:, :3] - targets.xyz, axis=1)
    pitch_err_rad = np.abs((reached[:, 3] - targets.pitch + np.pi) % (2 * np.pi) - np.pi)
    within = geom.within_limits(q)
    position_ok = (position_err_m < POSITION_TOL_M) & within
    success = position_ok & (pitch_err_rad < PITCH_TOL_RAD)
    solved = ~np.isnan(position_err_m)
    return {
        "success": success,
        "success_rate": float(success.mean()),
        "position_ok_rate": float(position_ok.mean()),
        "unsolved": int((~solved).sum()),
        "outside_limits": int((solved & ~within).sum()),
        "median_position_err_mm": float(np.median(position_err_m[solved]) * 1e3)
        if solved.any()
        else float("nan"),
        "max_position_err_mm": float(position_err_m[solved].max() * 1e3)
        if solved.any()
        else float("nan"),
        "max_pitch_err_rad": float(pitch_err_rad[solved].max()) if solved.any() else float("nan"),
    }


@dataclasses.dataclass(frozen=True)
class RowSpec:
    key: str
    label: str
    solve: Callable[[Targets], np.ndarray]
    n_targets: int
    fast: bool  # repeat until MIN_ROW_WALL_S (MIN_RUNS..MAX_RUNS runs), else IKPY_RUNS runs


def run_row(row: RowSpec, targets: Targets) -> dict:
    subset = targets.head(row.n_targets)
    row.solve(subset.head(2))  # warm-up outside the timing (imports, lambdified matrices, caches)
    walls, q = [], None
    while (
        (len(walls) < MIN_RUNS or sum(walls) < MIN_ROW_WALL_S) and len(walls) < MAX_RUNS
        if row.fast
        else len(walls) < IKPY_RUNS
    ):
        start_s = time.perf_counter()
        q = row.solve(subset)
        walls.append(time.perf_counter() - start_s)
    wall_s = float(np.median(walls))
    return {"row": row, "q": q, "wall_s": wall_s, "walls": walls, "rate": row.n_targets / wall_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random joint vectors")
    parser.add_argument(
        "--targets",
        type=int,
        default=20000,
        help=f"targets for the batched row (the scalar row takes at most {SCALAR_TARGETS} of "
        f"them, each ikpy row at most {IKPY_TARGETS})",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.targets < 1:
        parser.error("--targets must be >= 1")

    bench_start_s = time.perf_counter()
    profile = load_profile()
    geom = ArmGeometry.from_profile(profile)
    targets = make_targets(geom, args.targets, args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ikpy's notes about link lengths; the FK check decides
        chain = build_ikpy_chain(geom)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"profile {profile.name}, {args.targets} targets from FK of random joint vectors within "
        f"the limits (seed {args.seed}), link1 frame\n"
        f"success = our FK of the returned q within {POSITION_TOL_M * 1e3:g} mm and "
        f"{PITCH_TOL_RAD:g} rad pitch (and inside the limits)\n"
        f"ikpy {ikpy.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"python {platform.python_version()}, {cores} cores usable"
    )

    fk_position_diff_m, fk_axis_diff = check_ikpy_fk(chain, geom, args.seed)
    print(
        f"ikpy chain FK vs ours over {FK_CHECK_SAMPLES} random joint vectors: max position diff "
        f"{fk_position_diff_m:.2e} m, max tool x axis diff {fk_axis_diff:.2e}"
    )
    fk_agrees = fk_position_diff_m <= FK_CHECK_TOL and fk_axis_diff <= FK_CHECK_TOL
    if not fk_agrees:
        print(
            f"WARNING: ikpy's chain does NOT match our FK (tolerance {FK_CHECK_TOL:g}); "
            "the ikpy rows below solve a different arm"
        )
    print()

    n_scalar = min(args.targets, SCALAR_TARGETS)
    n_ikpy = min(args.targets, IKPY_TARGETS)
    rows = [
        RowSpec(
            "batched",
            "ours batched",
            lambda t: solve_batched(geom, t),
            args.targets,
            fast=True,
        ),
        RowSpec("scalar", "ours scalar loop", lambda t: solve_scalar(geom, t), n_scalar, fast=True),
        RowSpec(
            "ikpy_x",
            "ikpy X orientation (ref)",
            lambda t: solve_ikpy(chain, t, orientation=True),
            n_ikpy,
            fast=False,
        ),
        RowSpec(
            "ikpy_position",
            "ikpy position only",
            lambda t: solve_ikpy(chain, t, orientation=False),
            n_ikpy,
            fast=False,
        ),
    ]
    results = []
    for row in rows:
        result = run_row(row, targets)
        result["score"] = score(geom, result["q"], targets.head(row.n_targets))
        results.append(result)
    by_key = {r["row"].key: r for r in results}
    reference = by_key["ikpy_x"]
    batched = by_key["batched"]
    speedup = batched["rate"] / reference["rate"]
    accuracy_ok = batched["score"]["success_rate"] >= reference["score"]["success_rate"]
    goal_met = speedup >= GOAL_SPEEDUP and accuracy_ok
    same_targets = score(geom, batched["q"][:n_ikpy], targets.head(n_ikpy))

    table_rows = []
    for result in results:
        s = result["score"]
        goal = ""
        if result is batched:
            goal = f"{'PASS' if goal_met else 'FAIL'} (>= {GOAL_SPEEDUP:g}x, success >= ref)"
        table_rows.append(
            [
                result["row"].label,
                str(result["row"].n_targets),
                str(len(result["walls"])),
                f"{result['wall_s']:.4f}",
                f"{result['rate']:,.0f}",
                f"{result['rate'] / reference['rate']:.1f}",
                f"{100 * s['success_rate']:.1f}%",
                f"{100 * s['position_ok_rate']:.1f}%",
                f"{s['median_position_err_mm']:.2e}",
                f"{s['max_position_err_mm']:.2e}",
                goal,
            ]
        )
    print(
        format_table(
            [
                "row",
                "targets",
                "runs",
                "wall s",
                "solves/s",
                "x ikpy X",
                "success",
                "pos ok",
                "med pos mm",
                "max pos mm",
                "goal",
            ],
            table_rows,
            right_align={1, 2, 3, 4, 5, 6, 7, 8, 9},
        )
    )
    bench_wall_s = time.perf_counter() - bench_start_s

    ref_score = reference["score"]
    print(
        f"\n'wall s' is the median run; 'pos ok' = position within {POSITION_TOL_M * 1e3:g} mm "
        "whatever the pitch (ikpy position-only does not aim for a pitch)\n"
        f"goal: batched {batched['rate']:,.0f} solves/s = {speedup:.0f}x ikpy X "
        f"({reference['rate']:,.0f}/s), needs >= {GOAL_SPEEDUP:g}x; success "
        f"{100 * batched['score']['success_rate']:.2f}% (on the {n_ikpy} ikpy targets "
        f"{100 * same_targets['success_rate']:.2f}%) vs ikpy X "
        f"{100 * ref_score['success_rate']:.2f}%"
        f" -> {'PASS' if goal_met else 'FAIL'}"
    )
    print(
        f"ikpy X on its {n_ikpy} targets: {ref_score['unsolved']} unsolved, max pitch error "
        f"{ref_score['max_pitch_err_rad']:.2e} rad, "
        f"{int(round((1 - ref_score['success_rate']) * n_ikpy))} failed; "
        f"benchmark wall time {bench_wall_s:.1f} s"
    )
    if not goal_met:
        print("GOAL MISSED: ours batched")

    if args.json:
        report = {
            "profile": profile.name,
            "seed": args.seed,
            "targets": args.targets,
            "tolerances": {"position_m": POSITION_TOL_M, "pitch_rad": PITCH_TOL_RAD},
            "environment": {
                "ikpy": ikpy.__version__,
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "python": platform.python_version(),
                "cores": cores,
            },
            "ikpy_fk_check": {
                "samples": FK_CHECK_SAMPLES,
                "max_position_diff_m": fk_position_diff_m,
                "max_tool_axis_diff": fk_axis_diff,
                "agrees": fk_agrees,
            },
            "rows": [
                {
                    "key": r["row"].key,
                    "label": r["row"].label,
                    "targets": r["row"].n_targets,
                    "wall_s": r["wall_s"],
                    "wall_s_runs": r["walls"],
                    "solves_per_s": r["rate"],
                    "vs_ikpy_x": r["rate"] / reference["rate"],
                    **{k: v for k, v in r["score"].items() if k != "success"},
                }
                for r in results
            ],
            "goal": {
                "speedup_needed": GOAL_SPEEDUP,
                "speedup": speedup,
                "batched_success_rate_on_ikpy_targets": same_targets["success_rate"],
                "accuracy_ok": bool(accuracy_ok),
                "met": bool(goal_met),
            },
            "benchmark_wall_s": bench_wall_s,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
