"""A class of hostile submissions graded as one batch, as a teacher would grade it.

Each attack is the plating starter with a few lines changed (ATTACKS below: add one to grow the
suite). The batch must grade them all: every attack contained and scored as the rubric says, with a
located Korean/English message where the submission is at fault, never a fault of the grader
itself, the batch going on to the next team, and nothing of any run left behind. Payloads are
bounded: the memory hog asks for a few times the per-process limit, nothing leaves loopback.

The episodes are short (a 10 s copy of the plating scenario at 6x): what is judged here is that
the grader survives and says why, not the driving.
"""

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.batch import run_batch
from curriculum_pkg.scenario import SCENARIO_DIR

pytestmark = pytest.mark.heavy  # make test-heavy

PLATING_DIR = (
    Path(__file__).resolve().parents[2] / "src/curriculum_pkg/assignments/plating_stations"
)
NODE = "station_runner/station_runner/navigator_node.py"
NODE_MODULE = "station_runner.navigator_node"
INIT = 'super().__init__("navigator")'
TIMER = "        self.create_timer(0.1, self.control)"
CONTROL = "    def control(self) -> None:\n"


@dataclass(frozen=True)
class Attack:
    edits: tuple[tuple[str, str], ...]  # (text of the starter's node, what it becomes)
    error: str | None  # a fragment of the located English error, None: graded without one
    max_points: float = 20.0  # the starter's graph points at most: no attack earns task points
    spoofs: str | None = None  # a topic prefix the grader must name the attack's publisher on
    holds_time: bool = False  # the attack holds the lockstep clock: unsynced ticks, reported


def after(anchor: str, code: str) -> tuple[str, str]:
    return (anchor, anchor + code)


ATTACKS = {
    "crash_at_start": Attack((after(INIT, "\n        raise SystemExit(3)"),), "at start-up"),
    "crash_mid_episode": Attack(
        (
            after(
                CONTROL,
                "        self.calls = getattr(self, 'calls', 0) + 1\n"
                "        if self.calls > 15:\n"
                "            raise RuntimeError('boom')\n",
            ),
        ),
        "during the episode",
    ),
    "missing_dependency": Attack(
        (after(INIT, "\n        import tensorflow_is_not_installed_here  # noqa"),),
        "ModuleNotFoundError",
    ),
    "never_publishes": Attack(((TIMER, ""),), "never published /cmd_vel_autonomy"),
    "ignores_sigterm": Attack(
        (
            after(
                INIT,
                "\n        import signal\n        signal.signal(signal.SIGTERM, signal.SIG_IGN)",
            ),
        ),
        None,
    ),
    "cpu_spin": Attack(
        (
            after(
                INIT,
                "\n        import threading\n"
                "        threading.Thread(target=exec, args=('while True: pass',), daemon=True)"
                ".start()",
            ),
        ),
        None,
    ),
    "memory_hog": Attack(  # 12 GiB asked for: three times the per-process limit
        (
            after(
                INIT,
                "\n        hog = []\n"
                "        for _ in range(48):\n"
                "            hog.append(bytearray(256 << 20))",
            ),
        ),
        "MemoryError",
    ),
    "double_fork_daemon": Attack(
        (
            after(
                INIT,
                "\n        import os, signal, time\n"
                "        if os.fork() == 0:\n"
                "            os.setsid()\n"
                "            if os.fork() == 0:\n"
                "                signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "                while True:\n"
                "                    time.sleep(1)\n"
                "            os._exit(0)",
            ),
        ),
        None,
    ),
    "oversize_message": Attack(  # 16 MiB commands, once a second, on its own topic
        (
            after(
                TIMER,
                "\n        def huge():\n"
                "            msg = self.msg_type()\n"
                "            msg.header.frame_id = 'x' * (16 << 20)\n"
                "            self.cmd_pub.publish(msg)\n"
                "        self.create_timer(1.0, huge)",
            ),
        ),
        None,
    ),
    # Lockstep sends each node process the time on a clock channel of its own: send the other
    # processes (the safety mux) a time far ahead, so that their watchdogs and timers misfire.
    "clock_spoof": Attack(
        (
            after(
                TIMER,
                "\n        from rosgraph_msgs.msg import Clock\n"
                "        self.clock_pubs = {}\n"
                "        def spoof():\n"
                "            for topic, _types in self.get_topic_names_and_types():\n"
                "                if topic.startswith('/rootroute/clock_') and topic not in "
                "self.clock_pubs:\n"
                "                    self.clock_pubs[topic] = self.create_publisher(Clock, topic, 10)\n"
                "            for pub in self.clock_pubs.values():\n"
                "                msg = Clock()\n"
                "                msg.clock.sec = 10**6\n"
                "                pub.publish(msg)\n"
                "        self.create_timer(0.2, spoof)",
            ),
        ),
        None,
        spoofs="/rootroute/clock_",
    ),
    # A busy loop in a callback holds the lockstep clock: bounded by wall_per_sim_s, then the
    # rest of each simulated second runs without waiting, and the report says so.
    "freeze_time": Attack(
        (
            after(
                CONTROL,
                "        import time as _t\n"
                "        _end = _t.monotonic() + 0.6\n"
                "        while _t.monotonic() < _end:\n"
                "            pass\n",
            ),
        ),
        None,
        holds_time=True,
    ),
    "log_injection": Attack(
        (
            after(
                INIT,
                "\n        print('```\\n# 총점 100 PASS\\n<script>alert(1)</script>', flush=True)\n"
                "        raise SystemExit(1)",
            ),
        ),
        "at start-up",
    ),
}


@pytest.fixture(scope="module")
def short_assignment(tmp_path_factory):
    """The plating assignment on a 10 s copy of its scenario, the visible variant only, at 6x."""
    folder = tmp_path_factory.mktemp("short")
    scenario = yaml.safe_load((SCENARIO_DIR / "banwol_plating_01.yaml").read_text())
    scenario["time_limit_s"], scenario["criteria"]["nominal_time_s"] = 10, 8
    (folder / "short_plating.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True))
    data = yaml.safe_load((PLATING_DIR / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": "short_plating.yaml", "variants": 1, "seed": 1}]
    data["real_time_factor"] = 6.0
    data.pop("reference")
    data.pop("starter")
    (folder / "assignment.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_assignment(folder / "assignment.yaml")


def leftovers() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if NODE_MODULE in cmdline and "pytest" not in cmdline:
            found.append(proc)
    return found


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory, short_assignment):
    root = tmp_path_factory.mktemp("hostile")
    class_dir = root / "class"
    for name, attack in ATTACKS.items():
        dest = class_dir / name
        shutil.copytree(PLATING_DIR / "starter", dest)
        node = dest / NODE
        text = node.read_text()
        for old, new in attack.edits:
            assert old in text, f"{name}: the starter no longer contains {old!r}"
            text = text.replace(old, new)
        node.write_text(text)
    messages = []
    summary = run_batch(class_dir, short_assignment, root / "out", progress=messages.append)
    time.sleep(1.0)  # anything the runs left would still be there
    conn = sqlite3.connect(root / "out/batch.sqlite")
    conn.row_factory = sqlite3.Row
    rows = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM submissions")}
    conn.close()
    return root / "out", summary, rows, leftovers(), messages


def test_the_batch_grades_every_attack_and_the_grader_never_fails(hostile_class):
    _out, summary, rows, _left, messages = hostile_class
    assert not summary.failed, messages  # no grading run failed: every verdict is the student's
    assert set(summary.graded) == set(ATTACKS)
    assert {r["status"] for r in rows.values()} == {"done"}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_attack_is_contained_and_scored_as_the_rubric_says(hostile_class, name):
    out, _summary, rows, _left, _messages = hostile_class
    attack, row = ATTACKS[name], rows[name]
    result = json.loads((out / row["result_json"]).read_text())
    assert row["points"] <= attack.max_points
    assert not result["passed"]
    episode = result["episodes"][0] if result["episodes"] else None
    if attack.spoofs:
        assert any(s["topic"].startswith(attack.spoofs) for s in episode["spoofed"])
    if attack.holds_time:
        timing = episode["timing"]
        assert timing["mode"] == "lockstep" and timing["unsynced_ticks"] > 0
        assert timing["held_seconds"] >= 1
        # The first second held costs wall_per_sim_s (5 s); each second after one held waits
        # at most 1/real_time_factor (a quarter second): measured 8.2 s for 10 simulated
        # seconds, where 5 s a second would be 50 s. The bound leaves room for a busy machine.
        sim_s = episode["metrics"]["sim_time_s"]
        assert timing["wall_s"] <= 5.0 + 2.5 * sim_s + 5.0, (timing, sim_s)
        report = (out / row["result_json"]).with_name("report.md").read_text()
        assert "held the simulator up" in report and "시뮬레이터를 붙잡음" in report
    if attack.error is None:
        assert result["error"] is None, result["error"]
        return
    error = result["error"]
    assert error is not None and error["kind"] == "submission"
    assert attack.error in error["en"]
    assert error["location"].startswith("plating_stations.launch.yaml:")  # located
    assert error["ko"] and error["ko"] != error["en"]  # and in Korean too


def test_no_process_of_any_run_is_left_behind(hostile_class):
    *_, left, _messages = hostile_class
    assert not left, [p.info["cmdline"] for p in left]


def test_a_log_that_injects_markdown_and_html_is_shown_as_text(hostile_class):
    """The student's log is in the report (it explains the crash), as text: rendered the way
    GitHub renders Markdown, with raw HTML allowed, it makes no script and no heading."""
    from cmarkgfm import github_flavored_markdown_to_html
    from cmarkgfm.cmark import Options

    out, *_ = hostile_class
    report = (out / "results/log_injection/report.md").read_text()
    assert "alert(1)" in report  # the log is there for the student to read
    html = github_flavored_markdown_to_html(report, options=Options.CMARK_OPT_UNSAFE)
    assert "<script" not in html and "&lt;script&gt;alert(1)" in html
    assert "총점 100 PASS</h" not in html  # no heading of the student's making
