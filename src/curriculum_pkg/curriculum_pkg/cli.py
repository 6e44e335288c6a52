"""rootroute: the command line of the Root&Route platform.

rootroute doctor                          check rclpy, the RMW, MuJoCo + EGL, a DDS round trip
rootroute grade SUBMISSION -a ASSIGNMENT  grade a submission in the embedded simulator
rootroute batch CLASS_DIR -a ASSIGNMENT   grade every submission folder of a class, resumable
rootroute report BATCH_DIR                write a batch's leaderboard (leaderboard.md, .csv)
rootroute scenario validate FILE...       check scenario files
rootroute scenario list                   list the scenario library
rootroute scenario preview FILE [-o PNG]  draw a scenario's top-down preview picture
rootroute scenario sdf FILE [-o DIR]      write a scenario's Gazebo world (world.sdf + textures)
rootroute sim SCENARIO                    run the simulator + bridge for your own nodes
rootroute new-assignment ID -s SCENARIO   start a new assignment (assignment.yaml + starter)
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

from curriculum_pkg.errors import LocatedError

# (MuJoCo's headless GL backend is chosen by sim_pkg on import, before anything loads mujoco.)


def _line(ok: bool, what: str, detail: str) -> bool:
    print(f"  [{'ok' if ok else 'FAIL':>4}] {what:<28} {detail}")
    return ok


def cmd_doctor(_args) -> int:
    from curriculum_pkg.ros.doctor import run_checks

    print("rootroute doctor — 실행 환경 점검 / environment check")
    ok = True
    for check in run_checks():
        print(f"  [{'ok' if check.ok else 'FAIL':>4}] {check.what:<28} {check.detail}")
        ok = ok and check.ok
    print(
        "모든 항목 정상 / all checks passed"
        if ok
        else "실패한 항목이 있습니다 / some checks failed"
    )
    return 0 if ok else 1


def cmd_grade(args) -> int:
    from curriculum_pkg.assignment import load_assignment
    from curriculum_pkg.grader import grade

    try:
        assignment = load_assignment(args.assignment)
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/{assignment.id}-{time.strftime('%Y%m%d-%H%M%S')}")
    result = grade(Path(args.submission), assignment, out, isolate=not args.no_sandbox)
    _print_table(result)
    print(f"보고서 / reports: {out}/report.md, result.json, junit.xml")
    return 0 if result.error is None else 1


def _print_table(result) -> None:
    print()
    print(f"{'criterion / 항목':<24}{'weight':>8}{'points':>9}")
    keys = ["graph", "task", "safety", "efficiency"]
    n = max(1, len(result.episodes))
    for key in keys:
        weight = result.assignment.rubric[key]
        pts = sum(c.points for ep in result.episodes for c in ep.criteria if c.key == key) / n
        print(f"{key:<24}{weight:>8.0%}{pts:>9.1f}")
    print("-" * 41)
    verdict = "PASS / 통과" if result.passed else "NOT PASSED / 미통과"
    print(f"{'total / 총점':<24}{'':>8}{result.points:>9.1f}   {verdict}")
    if result.error is not None:
        print(
            f"\n오류 / error at {result.error.location}:\n  {result.error.ko}\n  {result.error.en}"
        )


def _stop_like_ctrl_c(_signum, _frame) -> None:
    raise KeyboardInterrupt


def cmd_batch(args) -> int:
    from curriculum_pkg.assignment import load_assignment
    from curriculum_pkg.batch import run_batch
    from curriculum_pkg.leaderboard import standings_table

    # Ctrl-C and `kill` both stop a batch cleanly: workers killed, their submissions queued again.
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _stop_like_ctrl_c),
    }
    try:
        assignment = load_assignment(args.assignment)
        # A fixed default folder, so that running the same command again resumes the batch.
        name = Path(args.submissions).resolve().name
        out = Path(args.out or f"runs/batch-{assignment.id}-{name}")
        summary = run_batch(
            Path(args.submissions),
            assignment,
            out,
            workers=args.workers,
            force=args.force,
            progress=lambda message: print(message, flush=True),  # also when piped to `tee`
        )
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before any worker started
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print()
    print(standings_table(summary.standings))
    if summary.interrupted:
        return 130
    return 1 if summary.failed else 0


def cmd_report(args) -> int:
    from curriculum_pkg.batch import open_db
    from curriculum_pkg.leaderboard import standings_table, write_leaderboard

    try:
        conn = open_db(Path(args.batch_dir), create=False)
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    with contextlib.closing(conn):
        standings = write_leaderboard(Path(args.batch_dir), conn)
    print(standings_table(standings))
    print(f"순위표 / leaderboard: {args.batch_dir}/leaderboard.md, leaderboard.csv")
    return 0


def cmd_scenario(args) -> int:
    from curriculum_pkg.scenario import list_scenarios, load_scenario

    if args.action == "list":
        for path in list_scenarios():
            try:
                s = load_scenario(path)
                print(f"{s.id:<24} {s.industry:<14} {s.title['ko']} / {s.title['en']}")
            except LocatedError as err:
                print(f"{path.name:<24} INVALID: {err.bilingual()}")
        return 0
    if args.action in ("preview", "sdf"):
        return _scenario_picture_or_world(args)
    status = 0
    for file in args.files:
        try:
            s = load_scenario(file)
            print(f"ok   {file}: {s.id}, {len(s.world.stations)} stations, {len(s.tasks)} tasks")
        except LocatedError as err:
            print(f"FAIL {err.bilingual()}")
            status = 1
    return status


def _scenario_picture_or_world(args) -> int:
    """`scenario preview` (a PNG) or `scenario sdf` (a Gazebo world folder) of one scenario."""
    from curriculum_pkg.scenario import load_scenario, resolve_scenario_path

    if len(args.files) != 1:
        print(
            f"rootroute scenario {args.action}: give one scenario file / "
            "시나리오 파일을 하나 지정하세요",
            file=sys.stderr,
        )
        return 2
    path = resolve_scenario_path(args.files[0])
    try:
        scenario = load_scenario(path)
    except LocatedError as err:
        print(f"FAIL {err.bilingual()}")
        return 1
    if args.action == "preview":
        from curriculum_pkg.preview import render_preview

        out = render_preview(scenario, args.out or f"runs/preview/{scenario.id}.png")
        print(f"미리보기 / preview: {out}")
        return 0
    from sim_pkg.profile import load_profile
    from sim_pkg.sdf import world_name_for, write_sdf_files

    out = Path(args.out or f"runs/gazebo/{scenario.id}")
    world = write_sdf_files(scenario.world, load_profile(), out, world_name_for(path))
    print(f"Gazebo 월드 / world: {world}")
    print(
        f"  ros2 launch launch/gazebo_sim.launch.py scenario:={path}   (또는 / or: gz sim {world})"
    )
    return 0


def cmd_new_assignment(args) -> int:
    from curriculum_pkg.scaffold import new_assignment

    try:
        folder = new_assignment(args.id, args.scenario, Path(args.out))
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    print(f"새 과제 / new assignment: {folder}/assignment.yaml, starter: {folder}/starter")
    print(
        "제목·설명의 TODO를 채우고 모범 답안(reference)을 추가하세요 / fill in the TODOs and add "
        "a reference solution. 확인 / check:\n"
        f"  rootroute grade {folder}/starter -a {folder}/assignment.yaml"
    )
    return 0


def cmd_sim(args) -> int:
    from curriculum_pkg.scenario import resolve_scenario_path

    path = resolve_scenario_path(args.scenario)
    ros_args = [
        "--ros-args",
        "-p",
        f"scenario:={path.resolve()}",
        "-p",
        f"real_time_factor:={args.rtf}",
        "-p",
        f"seed:={args.seed}",
    ]
    from sim_pkg.nodes.bridge_node import main as bridge_main

    bridge_main(args=["sim_bridge", *ros_args])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rootroute", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the ROS 2 / MuJoCo installation").set_defaults(
        func=cmd_doctor
    )
    g = sub.add_parser("grade", help="grade a submission folder")
    g.add_argument("submission")
    g.add_argument(
        "-a", "--assignment", required=True, help="assignment id or assignment.yaml path"
    )
    g.add_argument("-o", "--out", help="output folder (default runs/<assignment>-<time>)")
    g.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the student's nodes without the sandbox (debugging; the report says so)",
    )
    g.set_defaults(func=cmd_grade)
    b = sub.add_parser("batch", help="grade every submission of a class (one sub-folder each)")
    b.add_argument("submissions", help="folder holding one sub-folder per student or team")
    b.add_argument(
        "-a", "--assignment", required=True, help="assignment id or assignment.yaml path"
    )
    b.add_argument(
        "-o", "--out", help="batch folder (default runs/batch-<assignment>-<folder name>)"
    )
    b.add_argument(
        "-j", "--workers", type=int, default=1, help="submissions graded at once (default 1)"
    )
    b.add_argument("--force", action="store_true", help="regrade submissions already graded")
    b.set_defaults(func=cmd_batch)
    r = sub.add_parser("report", help="write the leaderboard of a batch folder")
    r.add_argument("batch_dir", help="the --out folder of `rootroute batch`")
    r.set_defaults(func=cmd_report)
    s = sub.add_parser("scenario", help="scenario library tools")
    s.add_argument("action", choices=["validate", "list", "preview", "sdf"])
    s.add_argument("files", nargs="*")
    s.add_argument(
        "-o",
        "--out",
        help="preview: the PNG (default runs/preview/<id>.png); "
        "sdf: the world folder (default runs/gazebo/<id>)",
    )
    s.set_defaults(func=cmd_scenario)
    n = sub.add_parser("new-assignment", help="start a new assignment from a scenario")
    n.add_argument("id", help="assignment id: lower case, digits and _ (e.g. welding_round)")
    n.add_argument("-s", "--scenario", required=True, help="scenario id or .yaml path")
    n.add_argument("-o", "--out", default="assignments", help="parent folder (default assignments)")
    n.set_defaults(func=cmd_new_assignment)
    sim = sub.add_parser("sim", help="run the embedded simulator and bridge")
    sim.add_argument("scenario")
    sim.add_argument(
        "--rtf", type=float, default=1.0, help="real-time factor (0 = as fast as possible)"
    )
    sim.add_argument("--seed", type=int, default=0)
    sim.set_defaults(func=cmd_sim)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
