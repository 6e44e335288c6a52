"""rootroute: the command line of the Root&Route platform.

rootroute doctor                          check rclpy, the RMW, MuJoCo + EGL, a DDS round trip
rootroute grade SUBMISSION -a ASSIGNMENT  grade a submission in the embedded simulator
rootroute batch CLASS_DIR -a ASSIGNMENT   grade every submission folder of a class, resumable
rootroute report BATCH_DIR                write a batch's leaderboard (leaderboard.md, .csv)
rootroute scenario validate FILE...       check scenario files and their hidden variants
rootroute scenario list [--plain]         list the scenario library (difficulty, tasks, bounds)
rootroute scenario preview FILE [-o PNG]  draw a scenario's top-down preview picture
rootroute scenario sdf FILE [-o DIR]      write a scenario's Gazebo world (world.sdf + textures)
rootroute sim SCENARIO                    run the simulator + bridge for your own nodes
rootroute view RECORDING.mcap             replay a graded episode in the browser
rootroute assignment list [--plain]       list the assignments (scenarios, rubric, pacing)
rootroute assignment validate FILE...     check assignments: types, rubric, scenarios, packages
rootroute new-assignment ID -s SCENARIO   start a new assignment (assignment.yaml + starter)
rootroute secret new FILE                 make a teacher's grading secret for hidden variants
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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
    import unicodedata

    from curriculum_pkg.ros.doctor import run_checks

    def padded(text: str, width: int) -> str:  # Hangul takes two columns of a terminal
        wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
        return text + " " * max(1, width - len(text) - wide)

    print("rootroute doctor — 실행 환경 점검 / environment check")
    ok = True
    for check in run_checks():
        print(f"  [{'ok' if check.ok else 'FAIL':>4}] {padded(check.what, 44)}{check.detail}")
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
    from curriculum_pkg.hidden import find_secret, load_hidden_scenarios

    try:
        assignment = _with_pacing(load_assignment(args.assignment), args.pacing)
        secret = find_secret(args.secret)
        hidden = (
            load_hidden_scenarios(Path(args.hidden_scenarios), assignment)
            if args.hidden_scenarios
            else ()
        )
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    team = args.team or (Path(args.submission).resolve().name if args.per_team else "")
    out = Path(args.out or f"runs/{assignment.id}-{time.strftime('%Y%m%d-%H%M%S')}")
    result = grade(
        Path(args.submission),
        assignment,
        out,
        isolate=not args.no_sandbox,
        secret=secret,
        team=team,
        hidden_scenarios=hidden,
        distro=args.distro,
    )
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
    from curriculum_pkg.batch import SandboxRefused, fair_workers, run_batch
    from curriculum_pkg.batchbar import BatchBar
    from curriculum_pkg.leaderboard import standings_table

    # Ctrl-C and `kill` both stop a batch cleanly: workers killed, their submissions queued again.
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _stop_like_ctrl_c),
    }
    from curriculum_pkg.hidden import HiddenOptions, find_secret, load_hidden_scenarios

    try:
        assignment = _with_pacing(load_assignment(args.assignment), args.pacing)
        find_secret(args.secret)  # a bad secret or hidden scenario stops the batch before it starts
        if args.hidden_scenarios:
            load_hidden_scenarios(Path(args.hidden_scenarios), assignment)
        hidden = HiddenOptions(
            Path(args.secret) if args.secret else None,
            args.per_team,
            Path(args.hidden_scenarios) if args.hidden_scenarios else None,
        )
        # A fixed default folder, so that running the same command again resumes the batch.
        name = Path(args.submissions).resolve().name
        out = Path(args.out or f"runs/batch-{assignment.id}-{name}")
        # The lines print above the bar; piped (to `tee`, in CI) there is no bar, only them.
        with BatchBar() as bar:
            summary = run_batch(
                Path(args.submissions),
                assignment,
                out,
                workers=fair_workers() if args.workers is None else args.workers,
                force=args.force,
                allow_unsandboxed=args.allow_unsandboxed,
                hidden=hidden,
                progress=bar.line,
                bar=bar,
                distro=args.distro,
            )
    except SandboxRefused as err:  # a list of what is missing: Korean, then English
        print(f"오류 / error: {err.ko}\n\n{err.en}", file=sys.stderr)
        return 2
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
    if args.action == "list":
        from curriculum_pkg.catalogue import library_assignments, print_listing, scenario_listing
        from curriculum_pkg.scenario import list_scenarios

        assignments = [a for _, a in library_assignments() if not isinstance(a, LocatedError)]
        print_listing(scenario_listing(list_scenarios(), assignments), plain=args.plain or None)
        return 0
    if args.action in ("preview", "sdf"):
        return _scenario_picture_or_world(args)
    status = 0
    for file in args.files:
        status |= _validate_scenario(file, args.seeds, args.variants)
    return status


def _validate_scenario(file: str, seeds: int, variants: int | None) -> int:
    """Check a scenario file, then draw `seeds` x its hidden variants and check each is solvable
    (curriculum_pkg.solvability), saying within which bounds they were drawn."""
    from curriculum_pkg.scenario import load_scenario
    from curriculum_pkg.variants import bounds_lines, check_variants

    try:
        s = load_scenario(file)
    except LocatedError as err:
        print(f"FAIL {err.bilingual()}")
        return 1
    count = variants or _declared_variants(s.id)
    found = check_variants(s, range(seeds), count)
    verdict = "ok  " if not found.problems else "FAIL"
    print(f"{verdict} {file}: {s.id}, {len(s.world.stations)} stations, {len(s.tasks)} tasks")
    print("     숨은 변형의 범위 / bounds of hidden variants:")
    for ko, en in bounds_lines(s.variant_bounds()):
        print(f"       - {ko} / {en}")
    print(
        f"     숨은 변형 {found.checked}개 검사 (시드 {seeds}개 × 변형 {count - 1}개, 뽑기 "
        f"{found.draws}회) / {found.checked} hidden variants checked ({seeds} seeds x "
        f"{count - 1} variants, {found.draws} draws)"
    )
    for reason, n in sorted(found.rejected_by_reason.items(), key=lambda kv: -kv[1])[:5]:
        print(f"       다시 뽑음 / redrawn {n}x: {reason}")
    for ko, en in found.problems[:10]:
        print(f"     FAIL {ko} / {en}")
    if len(found.problems) > 10:
        print(f"     ... 외 {len(found.problems) - 10}건 / and {len(found.problems) - 10} more")
    return 1 if found.problems else 0


def _declared_variants(scenario_id: str) -> int:
    """How many variants (the visible one included) the library's assignments grade of a
    scenario: the most any of them does, or 3 when none uses it."""
    from curriculum_pkg.catalogue import graded_variants, library_assignments

    assignments = [a for _, a in library_assignments() if not isinstance(a, LocatedError)]
    return max((n for _, n in graded_variants(assignments).get(scenario_id, [])), default=3)


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
    from common_pkg.profile import load_profile
    from sim_pkg.sdf import world_name_for, write_sdf_files

    out = Path(args.out or f"runs/gazebo/{scenario.id}")
    world = write_sdf_files(scenario.world, load_profile(), out, world_name_for(path))
    print(f"Gazebo 월드 / world: {world}")
    print(
        f"  ros2 launch launch/gazebo_sim.launch.py scenario:={path}   (또는 / or: gz sim {world})"
    )
    return 0


def cmd_assignment(args) -> int:
    """`assignment list`, or `assignment validate FILE...`: OK, or every located error."""
    if args.action == "list":
        from curriculum_pkg.catalogue import assignment_listing, library_assignments, print_listing

        print_listing(assignment_listing(library_assignments()), plain=args.plain or None)
        return 0
    from curriculum_pkg.assignment_check import check_assignment

    if not args.files:
        print(
            "rootroute assignment validate: give assignment.yaml files or folders / "
            "assignment.yaml 파일이나 과제 폴더를 지정하세요",
            file=sys.stderr,
        )
        return 2
    status = 0
    for file in args.files:
        errors = check_assignment(file)
        print(f"OK {file}" if not errors else f"FAIL {file}")
        for err in errors:
            print(f"  {err.bilingual()}")
        status |= bool(errors)
    return status


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


def cmd_dev(args) -> int:
    from common_pkg.profile import load_profile
    from curriculum_pkg.assignment import for_distro, load_assignment
    from curriculum_pkg.dev import DevOptions, run_dev, stdin_commands

    try:
        profile = load_profile(ros_distro=args.distro)
        assignment = for_distro(load_assignment(args.assignment), profile.ros_distro)
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    options = DevOptions(
        real_time_factor=args.rtf,
        view_port=args.view_port,
        foxglove_port=args.foxglove_port,
        once=args.once,
        out_dir=Path(args.out or f"runs/dev-{assignment.id}"),
    )
    return run_dev(
        Path(args.submission).resolve(), assignment, options, stdin_commands(), profile=profile
    )


def cmd_sim(args) -> int:
    from common_pkg.profile import load_profile
    from curriculum_pkg.dev import DevOptions, run_world, stdin_commands
    from curriculum_pkg.scenario import load_scenario

    try:
        profile = load_profile(ros_distro=args.distro)
        scenario = load_scenario(args.scenario)
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    if args.foxglove_port:
        _print_foxglove_hint(args.foxglove_port)
    options = DevOptions(
        real_time_factor=args.rtf, view_port=args.view_port, foxglove_port=args.foxglove_port
    )
    return run_world(scenario, options, stdin_commands(), seed=args.seed, profile=profile)


def _print_foxglove_hint(port: int) -> None:
    print(
        f"Foxglove: ws://localhost:{port}\n"
        "  Foxglove에서 Open connection → Foxglove WebSocket을 고르고 위 주소를 넣으세요. / In "
        "Foxglove, choose Open connection → Foxglove WebSocket and enter the address above.",
        flush=True,
    )


def cmd_view(args) -> int:
    from curriculum_pkg.viewer import serve_until_stopped

    return serve_until_stopped(Path(args.recording), args.port)


def cmd_secret(args) -> int:
    from curriculum_pkg.hidden import new_secret_file

    try:
        secret = new_secret_file(Path(args.file))
    except LocatedError as err:
        print(f"오류 / error: {err.bilingual()}", file=sys.stderr)
        return 2
    print(
        f"채점 비밀키를 만들었습니다 / grading secret written: {args.file} "
        f"(fingerprint {secret.fingerprint})\n"
        "  저장소 밖에 두고 학생에게 보여 주지 마세요. 같은 비밀키면 숨은 변형도 같습니다. / Keep it "
        "outside the repository and away from students; the same secret gives the same hidden "
        "variants."
    )
    return 0


def _with_pacing(assignment, pacing: str | None):
    """The assignment with its pacing replaced (--pacing), for comparisons and benchmarks."""
    return assignment if not pacing else dataclasses.replace(assignment, pacing=pacing)


def _distro_option(parser) -> None:
    """--distro, for every command that runs a graph (common_pkg.distro: one switch)."""
    parser.add_argument(
        "--distro",
        choices=["humble", "jazzy"],
        help="the ROS 2 distribution's conventions: /cmd_vel is Twist on humble, TwistStamped on "
        "jazzy, in the simulator, the platform's nodes and the graph check; localhost-only "
        "discovery by ROS_LOCALHOST_ONLY (humble) or ROS_AUTOMATIC_DISCOVERY_RANGE (jazzy). "
        "Default: the robot profile's ros_distro, else $ROS_DISTRO, else jazzy",
    )


def _pacing_option(parser) -> None:
    parser.add_argument(
        "--pacing",
        choices=["lockstep", "fixed"],
        help="how simulated time is paced (default: the assignment's, normally lockstep: the "
        "simulator waits for the student's nodes, so the score does not depend on the load; "
        "fixed: the assignment's real_time_factor in wall time)",
    )


def _viewer_options(parser) -> None:
    parser.add_argument(
        "--view-port",
        type=int,
        default=8765,
        metavar="PORT",
        help="watch it live in a browser on http://localhost:PORT (default 8765, another free "
        "port if it is taken; 0 = no live view)",
    )
    parser.add_argument(
        "--foxglove-port",
        type=int,
        default=0,
        metavar="PORT",
        help="also serve the simulation to Foxglove on ws://localhost:PORT (e.g. 8766): the "
        "robot's topics, the student's paths and markers, the floor plan and the true pose",
    )


def _hidden_options(parser) -> None:
    parser.add_argument(
        "--secret",
        metavar="FILE",
        help="the teacher's grading secret (default: $ROOTROUTE_GRADING_SECRET or "
        "$ROOTROUTE_GRADING_SECRET_FILE); without one only visible variants are graded",
    )
    parser.add_argument(
        "--per-team",
        action="store_true",
        help="derive each team's hidden variants from the secret and the team's folder name",
    )
    parser.add_argument(
        "--hidden-scenarios",
        metavar="DIR",
        help="a folder of the teacher's hidden scenarios (*.yaml), graded too",
    )


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
    _hidden_options(g)
    _pacing_option(g)
    _distro_option(g)
    g.add_argument("--team", help="per-team hidden variants for this team id (implies --per-team)")
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
        "-j",
        "--workers",
        type=int,
        help="submissions graded at once (default: as many as this machine serves fairly, one "
        "per usable CPU core within its memory; more are graded as asked, after a warning)",
    )
    b.add_argument("--force", action="store_true", help="regrade submissions already graded")
    _hidden_options(b)
    _pacing_option(b)
    _distro_option(b)
    b.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="grade even without the complete sandbox (bubblewrap, a private network, memory, "
        "process and CPU limits); the leaderboard marks those results",
    )
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
    s.add_argument(
        "--seeds", type=int, default=20, help="validate: seeds to draw hidden variants for (20)"
    )
    s.add_argument(
        "--variants",
        type=int,
        help="validate: variants per seed, the visible one included (default: as many as the "
        "library's assignments grade, or 3)",
    )
    s.add_argument("--plain", action="store_true", help="list: tab-separated text, no table")
    s.set_defaults(func=cmd_scenario)
    a = sub.add_parser("assignment", help="assignment library tools (teachers)")
    a.add_argument("action", choices=["list", "validate"])
    a.add_argument("files", nargs="*", help="validate: assignment.yaml files or their folders")
    a.add_argument("--plain", action="store_true", help="list: tab-separated text, no table")
    a.set_defaults(func=cmd_assignment)
    n = sub.add_parser("new-assignment", help="start a new assignment from a scenario")
    n.add_argument("id", help="assignment id: lower case, digits and _ (e.g. welding_round)")
    n.add_argument("-s", "--scenario", required=True, help="scenario id or .yaml path")
    n.add_argument("-o", "--out", default="assignments", help="parent folder (default assignments)")
    n.set_defaults(func=cmd_new_assignment)
    d = sub.add_parser(
        "dev", help="run your nodes in the grader's world, interactively (r: restart, q: quit)"
    )
    d.add_argument("submission")
    d.add_argument(
        "-a", "--assignment", required=True, help="assignment id or assignment.yaml path"
    )
    d.add_argument("--rtf", type=float, default=1.0, help="real-time factor (default 1)")
    d.add_argument("-o", "--out", help="logs and recordings (default runs/dev-<assignment>)")
    d.add_argument("--once", action="store_true", help="stop after one episode")
    _viewer_options(d)
    _distro_option(d)
    d.set_defaults(func=cmd_dev)
    sim = sub.add_parser(
        "sim", help="run the simulator and the mission topics for nodes you start yourself"
    )
    sim.add_argument("scenario")
    sim.add_argument(
        "--rtf", type=float, default=1.0, help="real-time factor (0 = as fast as possible)"
    )
    sim.add_argument("--seed", type=int, default=0)
    _viewer_options(sim)
    _distro_option(sim)
    sim.set_defaults(func=cmd_sim)
    v = sub.add_parser("view", help="replay a graded episode's recording in the browser")
    v.add_argument("recording", help="an episode's .mcap (the result folder's recordings/)")
    v.add_argument("--port", type=int, default=8767, help="serve on this port (default 8767)")
    v.set_defaults(func=cmd_view)
    sec = sub.add_parser("secret", help="make a grading secret for hidden variants (teachers)")
    sec.add_argument("action", choices=["new"])
    sec.add_argument("file", help="where to write it (outside the repository), mode 600")
    sec.set_defaults(func=cmd_secret)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
