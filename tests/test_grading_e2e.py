"""End-to-end grading: real student processes, real DDS, real physics, through the public API."""

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter

import psutil
import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.grader import grade
from curriculum_pkg.viewer import load_replay


def criteria(result):
    (episode,) = result.episodes
    return {c.key: c for c in episode.criteria}


@pytest.mark.heavy  # ~100 s; test_every_assignment leaves plating_stations to this test
def test_reference_solution_passes_every_variant(tmp_path, assignment_dir, grading_secret):
    assignment = load_assignment("plating_stations")
    result = grade(
        assignment_dir / "reference",
        assignment,
        tmp_path / "out",
        progress=lambda _m: None,
        secret=grading_secret,
    )
    assert result.error is None
    assert result.passed
    assert len(result.episodes) == sum(r.variants for r in assignment.runs)
    for ep in result.episodes:
        assert ep.metrics.completed and not ep.metrics.collisions and ep.metrics.keep_out_s == 0
        assert ep.metrics.hot_s == 0  # it passes beside the furnace doors, never in front
    report = json.loads((tmp_path / "out/result.json").read_text())
    assert report["schema_version"] == "1.10" and report["passed"] is True
    # Graded in lockstep: the simulator waited for the graph at every tick, never went on
    # without it, and says so in both languages.
    for ep_json in report["episodes"]:
        timing = ep_json["timing"]
        assert timing["mode"] == "lockstep" and timing["unsynced_ticks"] == 0
        assert timing["ticks"] > 100 and timing["graph_cpu_s"] > 0
    report_md = (tmp_path / "out/report.md").read_text()
    assert report_md.count("100.0") >= 1 and "lockstep" in report_md and "시간 진행" in report_md
    assert (tmp_path / "out/trajectory_banwol_plating_01_v0.png").stat().st_size > 1000
    # Every episode is recorded as a ROS 2 bag (MCAP), the student's commands included.
    for ep_json in report["episodes"]:
        bag = tmp_path / "out" / ep_json["recording"]["path"]
        with bag.open("rb") as f:
            topics = Counter(
                channel.topic
                for _schema, channel, _message, _decoded in make_reader(
                    f, decoder_factories=[DecoderFactory()]
                ).iter_decoded_messages()
            )
        assert topics["/odom"] > 100 and topics["/cmd_vel"] > 100 and topics["/scan"] > 10
        # ... with what `rootroute view` replays: the ground truth and the task events, written
        # by the grader into the file only, and the floor plan.
        replay = load_replay(bag)
        kinds = [e["kind"] for e in replay.data["events"]]
        tasks = result.scenario(ep_json["scenario"]).tasks  # the plating plant or the furnaces
        assert kinds.count("task_done") == len(tasks), kinds
        assert len(replay.data["truth"]) > 50 and replay.scene
    assert "rootroute view recordings/" in report_md


@pytest.mark.heavy  # every starter is graded in test_every_assignment too: make test-heavy
def test_starter_gets_graph_points_but_not_task_success(submission, quick_assignment, tmp_path):
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    c = criteria(result)
    assert c["graph"].score == 1.0
    assert c["task"].score == 0.0 and c["safety"].score == 0.0
    assert not result.passed and result.points == pytest.approx(20.0)


def test_grader_scores_zero_when_student_node_crashes_at_start(
    submission, quick_assignment, tmp_path
):
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")\n        raise RuntimeError("boom")',
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0 and not result.passed
    err = result.error
    assert "plating_stations.launch.yaml" in err.location
    assert "at start-up" in err.en and "시작하자마자" in err.ko
    assert (
        "navigator_node.py" in err.en and "RuntimeError: boom" in err.en
    )  # the student's own traceback


def test_grader_scores_zero_with_located_message_for_broken_launch_file(
    submission, quick_assignment, tmp_path
):
    submission.launch_file.write_text(
        "launch:\n  - node:\n      pkg: station_runner\n      exec: navigator\n    name: x\n"
    )
    # (also graded without the sandbox: bad input is reported the same way, and the report
    # says the sandbox was off)
    result = grade(
        submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None, isolate=False
    )
    assert result.points == 0.0
    assert result.error.location.startswith("plating_stations.launch.yaml:")
    saved = json.loads((tmp_path / "out/result.json").read_text())
    assert saved["error"]["ko"] and saved["error"]["kind"] == "submission"
    assert saved["sandbox"]["requested"] is False and not saved["sandbox"]["bubblewrap"]
    assert "--no-sandbox" in (tmp_path / "out/report.md").read_text()


def test_grader_scores_zero_when_node_crashes_mid_episode(submission, quick_assignment, tmp_path):
    submission.edit(
        "        linear, angular = 0.0, 0.0\n",
        "        linear, angular = 0.0, 0.0\n"
        "        if self.get_clock().now().nanoseconds > 3e9:\n"
        "            raise ZeroDivisionError('mid-episode')\n",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0
    assert "during the episode" in result.error.en and "ZeroDivisionError" in result.error.en


@pytest.mark.heavy  # waits out the start-up window: make test-heavy
def test_grader_scores_zero_when_node_never_publishes(submission, quick_assignment, tmp_path):
    submission.edit("        self.cmd_pub.publish(msg)", "        pass")
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0
    assert "never published /cmd_vel" in result.error.en
    assert "plating_stations.launch.yaml" in result.error.location


def test_grader_scores_zero_when_package_fails_to_install(submission, quick_assignment, tmp_path):
    setup_py = submission.path / "station_runner/setup.py"
    setup_py.write_text(setup_py.read_text() + "\nthis is not python\n")
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0
    assert result.error.location.endswith("setup.py")
    assert "failed to install" in result.error.en


def test_grader_detects_a_node_spoofing_odometry(submission, quick_assignment, tmp_path):
    submission.edit(
        "        self.create_timer(0.1, self.control)",
        "        self.create_timer(0.1, self.control)\n"
        "        self.fake_odom = self.create_publisher(Odometry, '/odom', 10)\n"
        "        self.create_timer(0.1, lambda: self.fake_odom.publish(Odometry()))",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert ("/odom", "/navigator") in result.episodes[0].spoofers


def test_grader_kills_escaped_grandchildren(submission, quick_assignment, tmp_path):
    # A sleep no other process has: found again by its command line after grading.
    marker = f"{300 + os.getpid() % 1000 / 1000:.3f}"
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")\n'
        "        import subprocess\n"
        f"        subprocess.Popen(['sleep', '{marker}'], start_new_session=True)",
    )
    submission.edit(
        "        self.cmd_pub.publish(msg)",
        "        self.cmd_pub.publish(msg)\n        raise SystemExit(3)",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is not None  # the node exits mid-episode...
    survivors = [
        p for p in psutil.process_iter(["cmdline", "status"])
        if p.info["cmdline"] == ["sleep", marker] and p.info["status"] != psutil.STATUS_ZOMBIE
    ]  # fmt: skip
    assert not survivors  # ...and its setsid child died too


def test_cli_grade_prints_score_table_and_exit_code(tmp_path):
    missing = tmp_path / "empty"
    missing.mkdir()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "curriculum_pkg.cli",
            "grade",
            str(missing),
            "-a",
            "plating_stations",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "total / 총점" in run.stdout and "launch 파일" in run.stdout


def test_cli_doctor_reports_every_check():
    run = subprocess.run(
        [sys.executable, "-m", "curriculum_pkg.cli", "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for check in ("rclpy", "RMW", "MuJoCo GL backend", "DDS round trip", "sandbox: bubblewrap"):
        assert f"{check} " in run.stdout


def test_manipulation_reference_passes_with_a_platform_node_in_its_launch_file(tmp_path):
    assignment = load_assignment("machining_pick_place")
    reference = assignment.reference_dir
    result = grade(reference, assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None and result.passed
    for ep in result.episodes:
        assert ep.metrics.tasks_done == ["pick:bushing", "place:bushing"]
        assert not ep.metrics.collisions


def test_launching_an_unknown_package_is_a_located_error(submission, quick_assignment, tmp_path):
    submission.launch_file.write_text(
        "launch:\n  - node: {pkg: station_runner, exec: navigator, name: navigator}\n"
        "  - node: {pkg: nav2_bringup, exec: bringup, name: nav2}\n"
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0
    assert "launch[1].node" in result.error.location and "nav2_bringup" in result.error.en


def test_grader_scores_zero_with_located_message_when_a_node_floods(
    submission, quick_assignment, tmp_path
):
    # A flood through reliable QoS is throttled to what the readers absorb (about 1000 messages a
    # wall second here): at 3x real time that is still well above the threshold in sim time.
    quick_assignment = dataclasses.replace(quick_assignment, real_time_factor=3.0)
    submission.edit(
        "        self.create_timer(0.1, self.control)",
        "        self.create_timer(0.1, self.control)\n"
        "        import threading\n"
        "        def flood():\n"
        "            msg = TwistStamped()\n"
        "            while True:\n"
        "                self.cmd_pub.publish(msg)\n"
        "        threading.Thread(target=flood, daemon=True).start()",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0
    assert "floods /cmd_vel" in result.error.en and "쏟아" in result.error.ko
    assert "plating_stations.launch.yaml" in result.error.location


def test_inspection_reference_reports_the_right_label_on_every_hidden_board(
    tmp_path, grading_secret
):
    assignment = load_assignment("pcb_inspection")
    result = grade(
        assignment.reference_dir,
        assignment,
        tmp_path / "out",
        progress=lambda _m: None,
        secret=grading_secret,
    )
    assert result.error is None and result.passed
    assert len(result.episodes) == sum(run.variants for run in assignment.runs)
    expected = {
        run.scenario.variant(v, grading_secret.seed(assignment.id, run.scenario.id, v))
        .tasks[0]
        .expected_label
        for run in assignment.runs
        for v in range(1, 12)
    }
    assert len(expected) >= 2  # the hidden variants really show different boards
    for ep in result.episodes:
        assert ep.metrics.tasks_done == ["inspect:pcb_check"] and not ep.metrics.tasks_failed


def test_grading_leaves_the_submission_folder_untouched(submission, quick_assignment, tmp_path):
    # The node stops at once: what matters here is the install, which happens before it starts.
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")\n        raise SystemExit(1)',
    )
    before = sorted(p.relative_to(submission.path) for p in submission.path.rglob("*"))
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert "at start-up" in result.error.en  # installed, then started
    after = sorted(p.relative_to(submission.path) for p in submission.path.rglob("*"))
    assert after == before  # no build/, no *.egg-info written next to the student's setup.py
