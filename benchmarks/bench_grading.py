"""Grading benchmark: wall time per scenario episode for each assignment's reference solution.

DESIGN.md's grading target is "wall time per scenario episode for the reference solution". Each
assignment's reference is graded end to end through the public `curriculum_pkg.grader.grade`,
as `rootroute grade` does (worker process, install, real student processes, the simulator at
the assignment's real-time factor), in two modes side by side, alternating:
  reference   grade(..., isolate=False): the same run without the sandbox (no network
              namespace, no bubblewrap, no cgroups)
  sandboxed   grade(...): what students get (private loopback network, bubblewrap per student
              process, per-run cgroups)
Columns: the install time (progress "[1/3]" -> "[2/3]", which builds the student's packages),
each episode's mean wall time, its nominal wall time (simulated s / target real-time factor:
the least an episode can take), the real-time factor achieved, the whole run's wall time, and
the score. The goal row compares the sandboxed mean episode time with the unsandboxed one.
Goal (ours; DESIGN.md gives no number): the sandbox adds under 10 % to an episode, and every
reference still scores its full marks. An episode's wall time includes starting the student's
nodes until the required graph is up (Python imports + DDS discovery: 1-4 s on a busy 2-core
machine), which is most of its noise: run on a quiet machine, with --repeats 3 or more.

Usage: MUJOCO_GL=egl .venv/bin/python benchmarks/bench_grading.py [--repeats 2]
       [--assignments plating_stations,machining_pick_place,pcb_inspection] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tables import format_table  # benchmarks/tables.py, next to this script

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.grader import grade

ASSIGNMENTS = ("plating_stations", "machining_pick_place", "pcb_inspection")
MODES = {"reference: no sandbox": False, "sandboxed": True}


def timed_grade(assignment, isolate: bool, out: Path) -> dict:
    marks: dict[str, float] = {}

    def progress(line: str) -> None:
        for tag in ("[1/3]", "[2/3]", "[3/3]"):
            if line.startswith(tag):
                marks[tag] = time.perf_counter()

    t0 = time.perf_counter()
    result = grade(assignment.reference_dir, assignment, out, progress=progress, isolate=isolate)
    wall_s = time.perf_counter() - t0
    if result.error is not None:
        raise SystemExit(f"{assignment.id} reference failed to grade: {result.error.bilingual()}")
    return {
        "install_s": marks["[2/3]"] - marks["[1/3]"],
        "episode_wall_s": [ep.wall_s for ep in result.episodes],
        "episode_nominal_s": [
            ep.metrics.sim_time_s / assignment.real_time_factor for ep in result.episodes
        ],
        "rtf": [ep.real_time_factor for ep in result.episodes],
        "wall_s": wall_s,
        "score": result.points,
        "sandbox": result.sandbox.as_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=2, help="gradings per assignment and mode")
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    runs: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for assignment_id in args.assignments.split(","):
            assignment = load_assignment(assignment_id)
            for repeat in range(args.repeats):
                order = list(MODES.items())
                if repeat % 2:  # alternate which mode goes first
                    order.reverse()
                for mode, isolate in order:
                    out = Path(tmp) / f"{assignment_id}-{repeat}-{isolate}"
                    runs.setdefault((assignment_id, mode), []).append(
                        timed_grade(assignment, isolate, out)
                    )

    headers = [
        "assignment",
        "mode",
        "install s",
        "episodes",
        "episode wall s",
        "nominal s",
        "RTF",
        "run wall s",
        "score",
    ]
    rows, summary = [], {}
    for (assignment_id, mode), samples in runs.items():
        episodes = [w for s in samples for w in s["episode_wall_s"]]
        nominal = [n for s in samples for n in s["episode_nominal_s"]]
        summary[(assignment_id, mode)] = statistics.mean(episodes)
        rows.append(
            [
                assignment_id,
                mode,
                f"{statistics.median(s['install_s'] for s in samples):.1f}",
                str(len(episodes)),
                f"{statistics.mean(episodes):.1f}",
                f"{statistics.mean(nominal):.1f}",
                f"{statistics.mean(r for s in samples for r in s['rtf']):.1f}",
                f"{statistics.median(s['wall_s'] for s in samples):.1f}",
                " ".join(f"{s['score']:.1f}" for s in samples),
            ]
        )
    print(
        f"Grading each reference solution end to end, {args.repeats} run(s) per mode; "
        "wall times in seconds, means over episodes\n"
    )
    print(format_table(headers, rows, right_align={2, 3, 4, 5, 6, 7}))
    print()
    for assignment_id in dict.fromkeys(a for a, _ in runs):
        bare = summary[(assignment_id, "reference: no sandbox")]
        boxed = summary[(assignment_id, "sandboxed")]
        overhead = boxed / bare - 1.0
        full = all(s["score"] >= 99.0 for m in MODES for s in runs[(assignment_id, m)])
        print(
            f"{assignment_id}: sandbox overhead per episode {overhead:+.1%} "
            f"({'PASS' if overhead < 0.10 else 'MISS'}, goal < 10%); "
            f"reference scores full marks: {'yes' if full else 'NO'}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({f"{a}/{m}": v for (a, m), v in runs.items()}, indent=2) + "\n"
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
