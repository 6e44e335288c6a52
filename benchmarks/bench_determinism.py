"""Determinism and throughput of grading: the same reference solution graded N times in a batch.

Issue 11 makes lockstep pacing the default (sim_pkg.lockstep: the simulator waits for the
student's node graph at every clock tick), so that a score no longer depends on how busy the
machine is. For each assignment's reference solution this benchmark puts `--copies` identical
copies (team01, team02, ...) in a temporary class folder and grades them with `rootroute batch`
(python -m curriculum_pkg.cli batch), no secret: every copy gets the same visible variant with
the assignment's public seed. Each condition runs once per pacing, side by side:
  lockstep   the new default
  fixed      the assignment's real-time factor in wall time (today's grading)
Conditions:
  j1         -j 1: one submission at a time
  j2         -j 2: two at once
  hog        -j 1 while os.cpu_count() busy-loop processes, started here, keep every core busy
An episode the machine could not run fairly ends its submission with a grader-kind error at
location "machine": no score, the batch grades it again next time. Those count as "unfair",
never as a score; a worker that left no result, or another grader fault, counts as "failed".

Table 1, determinism: the copies' scores, their spread (max - min; goal <= 1 point), unfair and
failed counts, and the mean episode wall time (each episode's wall_s in result.json).
Table 2, throughput, from the same batches: the mean episode wall time and episodes per hour of
the whole batch (episodes with a verdict / the batch command's wall time x 3600, installs
included), and the lockstep/fixed ratio of episodes per hour. Goal from the issue: >= 2x for
plating_stations and logistics_crossing, judged on the quiet conditions (j1, j2); the hog rows
are shown, not judged. A miss is printed, the exit code stays 0 unless a batch could not start.

The full run grades 4 assignments x 3 conditions x 2 pacings = 24 batches of 5 copies and takes
tens of minutes (about an hour on 2 cores); run it on an otherwise quiet machine:
  MUJOCO_GL=egl .venv/bin/python benchmarks/bench_determinism.py --json runs/bench-determinism.json
Quick form (2 batches of 2 copies, a few minutes):
  MUJOCO_GL=egl .venv/bin/python benchmarks/bench_determinism.py --copies 2 \\
      --assignments plating_stations --conditions j1 --pacing lockstep,fixed
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tables import format_table  # benchmarks/tables.py, next to this script

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.hidden import SECRET_ENV
from curriculum_pkg.leaderboard import RESULTS_DIR

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("plating_stations", "machining_pick_place", "pcb_inspection", "logistics_crossing")
PACINGS = ("lockstep", "fixed")
CONDITIONS = {"j1": (1, False), "j2": (2, False), "hog": (1, True)}  # name: (workers, CPU hog)
QUIET_CONDITIONS = ("j1", "j2")  # the throughput goal is judged on these
SPREAD_GOAL_POINTS = 1.0
THROUGHPUT_GOAL_RATIO = 2.0
THROUGHPUT_GOAL_ASSIGNMENTS = ("plating_stations", "logistics_crossing")
BUILD_OUTPUT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "install")
BATCH_STOP_WAIT_S = 60.0  # after Ctrl-C: the batch stops its workers itself, then we kill it


def make_class(reference_dir: Path, class_dir: Path, copies: int) -> list[str]:
    """`copies` identical submissions team01, team02, ... of the reference; returns their ids."""
    ids = [f"team{i + 1:02d}" for i in range(copies)]
    for sub_id in ids:
        shutil.copytree(reference_dir, class_dir / sub_id, ignore=BUILD_OUTPUT)
    return ids


@contextlib.contextmanager
def cpu_hog(processes: int):
    """`processes` busy loops, one Python process each, killed (by their ids) however we leave."""
    hogs: list[subprocess.Popen] = []
    try:
        for _ in range(processes):
            hogs.append(
                subprocess.Popen(
                    [sys.executable, "-c", "while True: pass"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,  # a Ctrl-C traceback from each is noise
                )
            )
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def grading_env() -> dict[str, str]:
    """Our environment for `rootroute batch`: headless rendering, and never a grading secret
    (with one, each copy would also get hidden variants)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_ENV)}
    env.setdefault("MUJOCO_GL", "egl")
    env.setdefault("PYOPENGL_PLATFORM", "egl")
    return env


def run_batch_command(
    class_dir: Path,
    assignment_id: str,
    pacing: str,
    workers: int,
    out_dir: Path,
    allow_unsandboxed: bool,
) -> tuple[int, float, Path]:
    """Run `rootroute batch` as a teacher would; returns (exit code, wall s, its log file)."""
    cmd = [
        sys.executable,
        "-m",
        "curriculum_pkg.cli",
        "batch",
        str(class_dir),
        "-a",
        assignment_id,
        "-o",
        str(out_dir),
        "-j",
        str(workers),
        "--pacing",
        pacing,
        *(["--allow-unsandboxed"] if allow_unsandboxed else []),
    ]
    log_path = out_dir.with_name(out_dir.name + ".log")
    t0 = time.perf_counter()
    with log_path.open("wb") as log:
        batch = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env=grading_env(),
        )
        try:
            code = batch.wait()
        except KeyboardInterrupt:  # the batch got the same Ctrl-C: let it stop its workers
            try:
                batch.wait(timeout=BATCH_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                batch.kill()
                batch.wait()
            raise
    return code, time.perf_counter() - t0, log_path


def read_submission(result_dir: Path) -> dict:
    """One copy's outcome from its result.json: "scored" (a verdict), "unfair" (the machine
    could not run an episode fairly) or "failed" (no result, or another grader fault)."""
    try:
        data = json.loads((result_dir / "result.json").read_text())
    except (OSError, ValueError) as exc:
        return {"outcome": "failed", "score": None, "error": f"no result.json: {exc}"}
    error = data.get("error")
    if error is not None and error.get("kind") == "grader":
        outcome = "unfair" if error.get("location") == "machine" else "failed"
    else:
        outcome = "scored"
    return {
        "outcome": outcome,
        "score": float(data["score"]) if outcome == "scored" else None,
        "error": error,
        "sandbox_complete": (data.get("sandbox") or {}).get("complete"),
        "wall_s": data.get("wall_s"),
        "episodes": [
            {
                "scenario": ep["scenario"],
                "variant": ep["variant"],
                "seed": ep.get("seed"),
                "score": ep["score"],
                "wall_s": ep["wall_s"],
                "timing": ep.get("timing"),
            }
            for ep in data.get("episodes", [])
        ],
    }


def run_condition(
    class_dir: Path,
    sub_ids: list[str],
    assignment_id: str,
    pacing: str,
    condition: str,
    out_dir: Path,
    allow_unsandboxed: bool,
) -> dict:
    workers, hog = CONDITIONS[condition]
    print(f"  {assignment_id} {pacing} {condition} (-j {workers}{', CPU hog' if hog else ''})")
    with cpu_hog(os.cpu_count() or 1) if hog else contextlib.nullcontext():
        code, wall_s, log_path = run_batch_command(
            class_dir, assignment_id, pacing, workers, out_dir, allow_unsandboxed
        )
    if code not in (0, 1):  # 1: some copies have no verdict, read below; 2: it did not start
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise SystemExit(f"rootroute batch exited with code {code}:\n{tail}")
    submissions = {s: read_submission(out_dir / RESULTS_DIR / s) for s in sub_ids}
    return {
        "assignment": assignment_id,
        "pacing": pacing,
        "condition": condition,
        "workers": workers,
        "cpu_hog_processes": (os.cpu_count() or 1) if hog else 0,
        "batch_exit_code": code,
        "batch_wall_s": round(wall_s, 2),
        "submissions": submissions,
    }


def scored_episodes(run: dict) -> list[dict]:
    """The episodes of the copies that got a verdict (a copy that did not is graded again)."""
    return [
        ep for s in run["submissions"].values() if s["outcome"] == "scored" for ep in s["episodes"]
    ]


def summarize(run: dict) -> dict:
    subs = run["submissions"].values()
    scores = [s["score"] for s in subs if s["outcome"] == "scored"]
    episodes = scored_episodes(run)
    walls = [ep["wall_s"] for ep in episodes]
    return {
        "scores": scores,
        "spread": max(scores) - min(scores) if len(scores) >= 2 else None,
        "unfair": sum(s["outcome"] == "unfair" for s in subs),
        "failed": sum(s["outcome"] == "failed" for s in subs),
        "episodes": len(episodes),
        "mean_episode_wall_s": statistics.mean(walls) if walls else None,
        "episodes_per_hour": len(episodes) / run["batch_wall_s"] * 3600.0,
    }


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def determinism_table(runs: list[dict]) -> str:
    headers = [
        "assignment",
        "pacing",
        "condition",
        "scores",
        "spread",
        "unfair",
        "failed",
        "episode wall s",
        f"spread <= {SPREAD_GOAL_POINTS:g}",
    ]
    rows = []
    for run in runs:
        s = summarize(run)
        if s["spread"] is None:
            verdict = "n/a (< 2 scores)"
        else:
            verdict = "PASS" if s["spread"] <= SPREAD_GOAL_POINTS else "MISS"
        rows.append(
            [
                run["assignment"],
                run["pacing"],
                run["condition"],
                " ".join(f"{score:.1f}" for score in s["scores"]) or "-",
                fmt(s["spread"]),
                str(s["unfair"]),
                str(s["failed"]),
                fmt(s["mean_episode_wall_s"]),
                verdict,
            ]
        )
    return format_table(headers, rows, right_align={4, 5, 6, 7})


def run_order(run: dict) -> tuple[int, int, int]:
    """Assignments as listed, then conditions, then lockstep before fixed."""
    return (
        ASSIGNMENTS.index(run["assignment"]) if run["assignment"] in ASSIGNMENTS else 99,
        list(CONDITIONS).index(run["condition"]),
        PACINGS.index(run["pacing"]),
    )


def throughput_ratios(runs: list[dict]) -> dict[tuple[str, str], float | None]:
    """(assignment, condition) -> lockstep episodes/h over fixed's, where both ran; None when
    fixed graded no episode."""
    per_hour = {
        (r["assignment"], r["condition"], r["pacing"]): summarize(r)["episodes_per_hour"]
        for r in runs
    }
    ratios = {}
    for (assignment_id, condition, pacing), lockstep in per_hour.items():
        fixed = per_hour.get((assignment_id, condition, "fixed"))
        if pacing == "lockstep" and fixed is not None:
            ratios[(assignment_id, condition)] = lockstep / fixed if fixed > 0 else None
    return ratios


def throughput_table(runs: list[dict]) -> str:
    headers = [
        "assignment",
        "condition",
        "pacing",
        "episodes",
        "episode wall s",
        "batch wall s",
        "episodes/h",
        "lockstep/fixed",
    ]
    ratios = throughput_ratios(runs)
    rows = []
    for run in runs:
        s = summarize(run)
        key = (run["assignment"], run["condition"])
        ratio = "-"
        if run["pacing"] == "lockstep" and key in ratios:
            ratio = "n/a (fixed: 0)" if ratios[key] is None else f"{ratios[key]:.2f}x"
        rows.append(
            [
                run["assignment"],
                run["condition"],
                run["pacing"],
                str(s["episodes"]),
                fmt(s["mean_episode_wall_s"]),
                f"{run['batch_wall_s']:.1f}",
                f"{s['episodes_per_hour']:.0f}",
                ratio,
            ]
        )
    return format_table(headers, rows, right_align={3, 4, 5, 6, 7})


def throughput_goal_lines(runs: list[dict]) -> list[str]:
    ratios = throughput_ratios(runs)
    lines = []
    for assignment_id in THROUGHPUT_GOAL_ASSIGNMENTS:
        judged = [
            (c, ratios[(assignment_id, c)])
            for c in QUIET_CONDITIONS
            if (assignment_id, c) in ratios
        ]
        if not judged:
            lines.append(
                f"{assignment_id}: not measured in this run (needs both pacings, j1 or j2)"
            )
            continue
        parts = []
        for condition, ratio in judged:
            if ratio is None:
                parts.append(f"{condition} n/a (fixed graded no episode)")
            else:
                verdict = "PASS" if ratio >= THROUGHPUT_GOAL_RATIO else "MISS"
                parts.append(f"{condition} {ratio:.2f}x {verdict}")
        lines.append(
            f"{assignment_id}: lockstep/fixed episodes per hour {', '.join(parts)} "
            f"(goal >= {THROUGHPUT_GOAL_RATIO:g}x)"
        )
    return lines


def ceiling_table(runs: list[dict]) -> str:
    """Why lockstep is not faster: the CPU the graph needs per simulated second. In lockstep one
    process reacts at a time, so a graph that needs C CPU seconds per simulated second cannot
    run faster than 1/C times real time, whatever the simulator does; a fixed factor F runs the
    same work on every core at once, F x C cores' worth. `graph` counts every watched thread:
    the nodes' processes and the simulator's own ROS threads (not its stepping thread)."""
    headers = [
        "assignment",
        "condition",
        "graph CPU s / sim s",
        "serial ceiling x",
        "lockstep achieved x",
        "fixed x",
        "fixed needs cores",
    ]
    rows = []
    for run in runs:
        if run["pacing"] != "lockstep":
            continue
        per_sim, achieved = [], []
        for ep in scored_episodes(run):
            timing = ep.get("timing") or {}
            sim_s = timing.get("real_time_factor", 0.0) * timing.get("wall_s", 0.0)
            if sim_s > 0:
                per_sim.append(timing.get("graph_cpu_s", 0.0) / sim_s)
                achieved.append(timing["real_time_factor"])
        if not per_sim:
            continue
        cpu = statistics.mean(per_sim)
        fixed = load_assignment(run["assignment"]).real_time_factor
        rows.append(
            [
                run["assignment"],
                run["condition"],
                f"{cpu:.3f}",
                f"{1.0 / cpu:.1f}" if cpu > 0 else "-",
                f"{statistics.mean(achieved):.1f}",
                f"{fixed:g}",
                f"{fixed * cpu:.2f}",
            ]
        )
    return format_table(headers, rows, right_align={2, 3, 4, 5, 6})


def oddities(runs: list[dict]) -> list[str]:
    """What a reader should know about before trusting the tables."""
    notes = []
    for run in runs:
        tag = f"{run['assignment']} {run['pacing']} {run['condition']}"
        seeds = set()
        for sub_id, s in run["submissions"].items():
            error = s.get("error")
            if s["outcome"] != "scored" or error is not None:
                text = error if isinstance(error, str) else (error or {}).get("en") or ""
                where = "" if isinstance(error, str) else f" at {(error or {}).get('location')}"
                first = text.splitlines()[0] if text else "(no message)"
                notes.append(f"{tag} {sub_id}: {s['outcome']}{where}: {first}")
            if s.get("sandbox_complete") is False:
                notes.append(f"{tag} {sub_id}: graded without the complete sandbox")
            for ep in s.get("episodes", []):
                seeds.add((ep["scenario"], ep["variant"], ep["seed"]))
                unsynced = (ep.get("timing") or {}).get("unsynced_ticks", 0)
                if unsynced:
                    notes.append(
                        f"{tag} {sub_id}: {ep['scenario']} variant {ep['variant']}: "
                        f"{unsynced} unsynced tick(s) (timing: {ep['timing']})"
                    )
        if len({(sc, v) for sc, v, _ in seeds}) != len(seeds):
            notes.append(f"{tag}: the copies were not graded with the same seeds: {sorted(seeds)}")
        ticks = {}  # the same episode, run alike, has as many clock ticks in every copy
        for ep in scored_episodes(run):
            key = (ep["scenario"], ep["variant"])
            ticks.setdefault(key, []).append((ep.get("timing") or {}).get("ticks"))
        for (scenario, variant), counts in ticks.items():
            if len(set(counts)) > 1:
                notes.append(f"{tag}: {scenario} variant {variant}: ticks differ: {counts}")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=5, help="copies of each reference (5)")
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS))
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="of j1,j2,hog")
    parser.add_argument("--pacing", default=",".join(PACINGS), help="of lockstep,fixed")
    parser.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="pass --allow-unsandboxed to the batch (a machine without the complete sandbox)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    conditions = args.conditions.split(",")
    pacings = args.pacing.split(",")
    for name, given, known in (("condition", conditions, CONDITIONS), ("pacing", pacings, PACINGS)):
        if unknown := [g for g in given if g not in known]:
            parser.error(f"unknown {name}: {', '.join(unknown)} (known: {', '.join(known)})")
    if args.copies < 1:
        parser.error("--copies needs at least 1")

    load_1m, load_5m, _ = os.getloadavg()
    print(
        f"Grading {args.copies} copies of each reference with `rootroute batch`; "
        f"{os.cpu_count()} CPUs, load average {load_1m:.2f} (1 min) {load_5m:.2f} (5 min)"
    )
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-determinism-") as tmp:
        for assignment_id in args.assignments.split(","):
            assignment = load_assignment(assignment_id)
            class_dir = Path(tmp) / assignment_id / "class"
            sub_ids = make_class(assignment.reference_dir, class_dir, args.copies)
            for i, condition in enumerate(conditions):
                # alternate which pacing goes first, so a drifting machine favours neither
                for pacing in pacings if i % 2 == 0 else pacings[::-1]:
                    out_dir = Path(tmp) / assignment_id / f"batch-{pacing}-{condition}"
                    runs.append(
                        run_condition(
                            class_dir,
                            sub_ids,
                            assignment_id,
                            pacing,
                            condition,
                            out_dir,
                            args.allow_unsandboxed,
                        )
                    )
    runs.sort(key=run_order)

    print(
        f"\nDeterminism: scores of {args.copies} identical copies per batch (unfair: the machine "
        "could not run an episode fairly, no score; failed: no result)\n"
    )
    print(determinism_table(runs))
    print("\nThroughput: episodes with a verdict per hour of the whole batch (installs included)\n")
    print(throughput_table(runs))
    print()
    for line in throughput_goal_lines(runs):
        print(line)
    print(
        "\nCeiling: CPU the graph needs per simulated second (lockstep runs); one process at a "
        "time cannot beat 1/that\n"
    )
    print(ceiling_table(runs))
    notes = oddities(runs)
    if notes:
        print("\nNotes:")
        for note in notes:
            print(f"  {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summaries = [{**run, "summary": summarize(run)} for run in runs]
        args.json.write_text(json.dumps(summaries, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
