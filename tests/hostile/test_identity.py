"""Hostile submissions: borrowed names, transient spoofers, a node looking for which variant it is
in, and student code slipped into a platform node. The grader decides by identity and evidence."""

import json
import re
import sys
import textwrap

import pytest

from curriculum_pkg.grader import grade
from curriculum_pkg.launchfile import NodeSpec
from curriculum_pkg.processes import kill_all, start_node
from curriculum_pkg.sandbox import Limits, Sandbox, SandboxInfo
from curriculum_pkg.submission import Executable


def _criteria(result) -> dict:
    (episode,) = result.episodes
    return {c.key: c for c in episode.criteria}


@pytest.mark.parametrize(
    ("borrowed", "topic", "msg_type"),
    [
        ("sim_bridge", "/odom", "nav_msgs.msg.Odometry"),  # fake odometry
        ("safety_mux", "/cmd_vel", "geometry_msgs.msg.TwistStamped"),  # drive past the mux
    ],
)
def test_a_node_borrowing_a_platform_name_to_publish_its_topic_fails_the_episode(
    submission, quick_assignment, tmp_path, borrowed, topic, msg_type
):
    # A second node under the borrowed name, without the grader's remaps (use_global_arguments
    # False), publishing where only the simulator or the safety mux may.
    module, _, cls = msg_type.rpartition(".")
    submission.edit(
        "        self.create_timer(0.1, self.control)",
        "        self.create_timer(0.1, self.control)\n"
        f"        from {module} import {cls} as Fake\n"
        f"        self.fake = rclpy.create_node({borrowed!r}, use_global_arguments=False)\n"
        f"        self.fake_pub = self.fake.create_publisher(Fake, {topic!r}, 10)\n"
        "        self.create_timer(0.1, lambda: self.fake_pub.publish(Fake()))",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    (episode,) = result.episodes
    assert (topic, f"/{borrowed}") in episode.spoofers
    crit = _criteria(result)
    assert crit["task"].score == 0 and crit["safety"].score == 0 and crit["efficiency"].score == 0
    assert f"/{borrowed} on {topic}" in crit["task"].en and "에피소드 실패" in crit["task"].ko
    assert not result.passed


def test_a_spoofer_that_publishes_once_and_vanishes_is_still_caught(
    submission, quick_assignment, tmp_path
):
    # It tells the grader the safety mux never had to step in, then hides its publisher again.
    submission.edit(
        "    def control(self) -> None:\n",
        "    def control(self) -> None:\n"
        "        if not hasattr(self, 'spoofed'):\n"
        "            import time\n"
        "            from std_msgs.msg import UInt32\n"
        "            from rclpy.qos import DurabilityPolicy, QoSProfile\n"
        "            qos = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)\n"
        "            pub = self.create_publisher(UInt32, '/safety/interventions', qos)\n"
        "            pub.publish(UInt32(data=0))\n"
        "            time.sleep(0.3)\n"
        "            self.destroy_publisher(pub)\n"
        "            self.spoofed = True\n",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    (episode,) = result.episodes
    assert [t for t, _node in episode.spoofers] == ["/safety/interventions"]
    assert _criteria(result)["task"].score == 0


PROBE = """
        import json, os
        seen = {"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(), "fds": {}}
        for fd in os.listdir("/proc/self/fd"):
            try:
                seen["fds"][fd] = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                pass
        params = [a for a in sys.argv if a.endswith(".yaml")]
        seen["params"] = open(params[0]).read() if params else ""
        print("VIEW " + json.dumps(seen), flush=True)
"""


# Sandboxed and not (debugging runs): two whole gradings, so both are in make test-heavy.
@pytest.mark.heavy
@pytest.mark.parametrize("sandboxed", [True, False])
def test_nothing_a_node_sees_names_the_scenario_or_the_variant(
    submission, quick_assignment, tmp_path, sandboxed
):
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")\n        import sys'
        + textwrap.dedent(PROBE).replace("\n", "\n        "),
    )
    out = tmp_path / "out"
    grade(submission.path, quick_assignment, out, progress=lambda _m: None, isolate=sandboxed)
    (log,) = (out / "logs").rglob("navigator.log")
    line = next(ln for ln in log.read_text().splitlines() if ln.startswith("VIEW "))
    view = line.removeprefix("VIEW ")
    scenario = quick_assignment.runs[0].scenario.id
    assert scenario not in view and "plating" not in view
    assert not re.search(r"_v\d", view), view
    seen = json.loads(view)
    assert seen["params"]  # it did read its parameter file
    # One thread for numpy's maths: a BLAS pool spinning between calls would keep lockstep
    # waiting (and compute differently from machine to machine).
    assert {k: seen["env"].get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")} == {
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    assert log.parent.name == f"{scenario}_v0"  # named for the teacher once the episode ended


def test_a_platform_node_never_imports_the_students_code(tmp_path):
    # A prefix with a start-up hook (install refuses these; this checks the second wall).
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    (prefix / "sitecustomize.py").write_text("print('STUDENT CODE RAN', flush=True)\n")
    sandbox = Sandbox(SandboxInfo(requested=False))
    exe = Executable("platform", "python_version")  # prints the version and exits
    logs = {}
    for platform in (True, False):
        spec = NodeSpec("teleop_pkg", "probe", f"probe_{platform}", location="probe")
        run_dir = tmp_path / str(platform)
        proc = start_node(spec, exe, prefix, run_dir, {}, sandbox, Limits(cpu_s=30), platform)
        proc.popen.wait(timeout=30)
        kill_all([proc], "test")
        logs[platform] = proc.log_path.read_text()
    assert sys.version.split()[0] in logs[True]
    assert "STUDENT CODE RAN" not in logs[True]
    assert "STUDENT CODE RAN" in logs[False]  # the same prefix does reach a student's node


@pytest.mark.heavy  # a whole grading: make test-heavy
def test_leaving_the_safety_mux_out_of_the_launch_file_does_not_get_past_it(
    submission, quick_assignment, tmp_path
):
    # No mux in the launch file, no remap: the navigator drives /cmd_vel itself.
    launch = submission.launch_file.read_text()
    mux = "  - node:\n      pkg: teleop_pkg\n      exec: safety_mux\n      name: safety_mux\n"
    remap = "      remap:\n        - {from: /cmd_vel, to: /cmd_vel_autonomy}\n"
    assert mux in launch and remap in launch
    submission.launch_file.write_text(launch.replace(mux, "").replace(remap, ""))
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    (episode,) = result.episodes
    assert ("/cmd_vel", "/navigator") in episode.spoofers  # the grader ran the mux all the same
    assert any(
        not f.ok and "does not start the platform's node /safety_mux" in f.en
        for f in episode.graph_findings
    )
    assert _criteria(result)["task"].score == 0 and not result.passed
