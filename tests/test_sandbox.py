"""Hostile submissions: what a student's node (and its setup.py) can and cannot do while graded.

Each test grades a real submission whose code probes its sandbox and prints what it found; the
assertions read the node's log, which the grader keeps in out/logs.
"""

import json
import os
import socket
import subprocess
import textwrap
from pathlib import Path

import psutil
import pytest

from curriculum_pkg.cgroups import CGROUP_ROOT, MEMORY_LIMIT_BYTES, PIDS_LIMIT, CgroupLayout
from curriculum_pkg.grader import grade
from curriculum_pkg.sandbox import (
    TMP_SIZE_BYTES,
    Limits,
    Sandbox,
    SandboxInfo,
)

REPO = Path(__file__).resolve().parents[1]
HIDDEN_SCENARIO = REPO / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml"

PROBE = """
        import json, os, socket
        probe = {}
        def attempt(name, action):
            try:
                action()
                probe[name] = "ok"
            except Exception as exc:  # what stopped it
                probe[name] = type(exc).__name__
        attempt("read_scenario", lambda: open(SCENARIO).read())
        attempt("read_shadow", lambda: open("/etc/shadow").read())
        attempt("write_submission", lambda: open(os.path.join(SUBMISSION, "x.txt"), "w").write("x"))
        attempt("write_repo", lambda: open(os.path.join(REPO, "pwned.txt"), "w").write("x"))
        attempt("write_tmp", lambda: open("/tmp/scratch.txt", "w").write("x"))
        attempt("write_root", lambda: open("/scratch.txt", "w").write("x"))
        def fill_tmp():  # 64 MiB at a time, up to 2 GiB; what it managed, then freed
            chunk, written = b"x" * (64 << 20), 0
            try:
                with open("/tmp/fill.bin", "wb") as f:
                    while written < 2 << 30:
                        f.write(chunk)
                        f.flush()
                        written += len(chunk)
            finally:
                probe["tmp_filled"] = written
                os.remove("/tmp/fill.bin")
        attempt("fill_tmp", fill_tmp)
        attempt("host_loopback", lambda: socket.create_connection(("127.0.0.1", PORT), 2).close())
        probe["interfaces"] = sorted(name for _, name in socket.if_nameindex())
        probe["uid"] = os.getuid()
        probe["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        print("SANDBOX_PROBE " + json.dumps(probe), flush=True)
"""


def node_log(out: Path) -> str:
    logs = sorted((out / "logs").rglob("navigator.log"))
    assert logs, "the node left no log"
    return logs[0].read_text()


def probe_result(log: str) -> dict:
    line = next((ln for ln in log.splitlines() if ln.startswith("SANDBOX_PROBE ")), None)
    assert line is not None, f"the probe did not run:\n{log[-2000:]}"
    return json.loads(line.removeprefix("SANDBOX_PROBE "))


@pytest.fixture
def host_server():
    """A TCP server on this machine's loopback that no graded node should reach."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


def test_a_node_sees_neither_the_grader_nor_the_network_nor_hidden_scenarios(
    submission, quick_assignment, tmp_path, host_server
):
    setup = (
        f"\n        SCENARIO, SUBMISSION, REPO, PORT = {str(HIDDEN_SCENARIO)!r}, "
        f"{str(submission.path)!r}, {str(REPO)!r}, {host_server}"
    )
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")'
        + setup
        + textwrap.dedent(PROBE).replace("\n", "\n        "),
    )
    out = tmp_path / "out"
    result = grade(submission.path, quick_assignment, out, progress=lambda _m: None)
    assert result.sandbox is not None and result.sandbox.complete, result.sandbox
    assert result.sandbox.cgroup_version in (1, 2) and result.sandbox.cpu_limit_cores > 0
    probe = probe_result(node_log(out))
    assert probe["read_scenario"] == "FileNotFoundError"  # the scenarios are not even there
    assert probe["read_shadow"] == "FileNotFoundError"  # nor is anything of /etc not public
    assert probe["write_submission"] == "FileNotFoundError"  # nor is the student's folder
    assert probe["write_root"] == "OSError"  # bubblewrap's root is read-only: only /tmp is not
    assert probe["write_tmp"] == "ok"  # a private /tmp works as usual
    # ... within its size: the disk, the machine's memory and other runs never see it
    assert probe["fill_tmp"] == "OSError" and probe["tmp_filled"] <= TMP_SIZE_BYTES, probe
    assert probe["host_loopback"] in ("ConnectionRefusedError", "OSError", "TimeoutError")
    assert probe["interfaces"] == ["lo"]
    assert probe["uid"] == 65534  # nobody, without capabilities
    assert len(probe["processes"]) <= 3  # its own pid namespace: no grader, no other node
    assert not (REPO / "pwned.txt").exists()  # whatever it wrote stayed in its sandbox
    assert not (submission.path / "x.txt").exists()
    # ... and it still runs as a node: the starter's graph points are there.
    assert result.error is None and result.points == pytest.approx(20.0)


@pytest.mark.heavy  # a whole grading; make test keeps to 15 minutes
def test_a_setup_py_runs_in_the_sandbox_too(submission, quick_assignment, tmp_path):
    # setup.py is student code run at install time: it tries to copy a hidden scenario into its
    # own package (which it may write; the node prints what it got) and to write into the
    # repository.
    setup_py = submission.path / "station_runner/setup.py"
    setup_py.write_text(
        "try:\n"
        f"    leaked = open({str(HIDDEN_SCENARIO)!r}).read()\n"
        "except OSError as exc:\n"
        "    leaked = type(exc).__name__\n"
        "try:\n"
        f"    open({str(REPO / 'pwned_by_setup.txt')!r}, 'w').write('x')\n"
        "    leaked += ' wrote'\n"
        "except OSError as exc:\n"
        "    leaked += ' ' + type(exc).__name__\n"
        "open('station_runner/__init__.py', 'a').write(f'LEAKED = {leaked!r}\\n')\n"
        + setup_py.read_text()
    )
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")\n'
        "        import station_runner\n"
        "        print('LEAKED:', station_runner.LEAKED, flush=True)",
    )
    out = tmp_path / "out"
    result = grade(submission.path, quick_assignment, out, progress=lambda _m: None)
    # (Writing to the repository's path fails, or, for a checkout under /tmp as CI's, lands in
    # the private /tmp; either way never in the repository.)
    assert "LEAKED: FileNotFoundError " in node_log(out)
    assert not (REPO / "pwned_by_setup.txt").exists()
    assert result.error is None and result.points == pytest.approx(20.0)  # built all the same


def _pids_cgroup_writable() -> bool:
    folder = CGROUP_ROOT / "pids" / "rootroute"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / "probe"
        probe.mkdir(exist_ok=True)
        probe.rmdir()
        return True
    except OSError:
        return False


@pytest.mark.skipif(
    not _pids_cgroup_writable(), reason="needs a writable cgroup v1 pids controller"
)
def test_a_fork_bomb_stops_at_the_runs_process_limit(submission, quick_assignment, tmp_path):
    # Forks until fork fails, then reports how far it got. Without the pids cgroup this would
    # take the machine down, which is why the test only runs where the limit exists.
    submission.edit(
        'super().__init__("navigator")',
        'super().__init__("navigator")\n'
        "        import os, time\n"
        "        children = 0\n"
        "        try:\n"
        "            while True:\n"
        "                if os.fork() == 0:\n"
        "                    time.sleep(600)\n"
        "                    os._exit(0)\n"
        "                children += 1\n"
        "        except OSError as exc:\n"
        "            print(f'FORK_STOPPED {children} {exc.errno}', flush=True)\n"
        "        raise SystemExit(7)",
    )
    out = tmp_path / "out"
    before = {p.pid for p in psutil.process_iter()}
    result = grade(submission.path, quick_assignment, out, progress=lambda _m: None)
    line = next(ln for ln in node_log(out).splitlines() if ln.startswith("FORK_STOPPED"))
    assert 0 < int(line.split()[1]) < PIDS_LIMIT
    assert result.points == 0.0 and "at start-up" in result.error.en  # located as a crash
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.pid not in before and "navigator_node" in " ".join(p.info["cmdline"] or [])
    ]
    assert not leftovers  # every forked child was killed with the run


def test_read_only_paths_under_tmp_stay_visible_in_the_private_tmp(tmp_path):
    # A checkout (and so its .venv and platform packages) may live under /tmp, as CI's clone
    # can: the sandbox's private /tmp must not hide what it binds there.
    shared = tmp_path / "platform"
    shared.mkdir()
    (shared / "hello.txt").write_text("안녕 hello")
    (tmp_path / "secret.txt").write_text("not bound: must stay invisible")
    info = SandboxInfo()
    box = Sandbox.for_run(info, f"test-{os.getpid()}", readonly=(shared,))
    try:
        assert box.bwrap is not None, info.missing
        cmd = box.command(
            ["/bin/sh", "-c", f"cat {shared}/hello.txt && test ! -e {tmp_path}/secret.txt"],
            env={"PATH": "/usr/bin:/bin"},
            limits=Limits(cpu_s=10),
        )
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    finally:
        if box.cgroup is not None:
            box.cgroup.kill_all()
    assert run.returncode == 0, run.stderr
    assert run.stdout == "안녕 hello"


def test_a_symbolic_link_in_a_submission_is_refused_before_anything_reads_it(
    submission, quick_assignment, tmp_path
):
    # The grader reads the submission outside the sandbox: a link to a hidden scenario must not
    # bring its content into the build, the logs or the report.
    (submission.path / "station_runner/station_runner/scenario.yaml").symlink_to(HIDDEN_SCENARIO)
    out = tmp_path / "out"
    result = grade(submission.path, quick_assignment, out, progress=lambda _m: None)
    assert result.points == 0.0
    assert result.error.location == "station_runner/station_runner/scenario.yaml"
    assert "symbolic links" in result.error.en and "심볼릭 링크" in result.error.ko
    secret = "stations:"  # in every scenario file, in no report of ours
    leaked = [p for p in out.rglob("*") if p.is_file() and secret in p.read_text(errors="ignore")]
    assert not leaked


def test_a_fifo_or_an_oversized_submission_is_refused(submission, quick_assignment, tmp_path):
    os.mkfifo(submission.path / "station_runner/pipe")  # reading it would block the grader
    result = grade(submission.path, quick_assignment, tmp_path / "out1", progress=lambda _m: None)
    assert result.error.location == "station_runner/pipe" and "regular files" in result.error.en
    (submission.path / "station_runner/pipe").unlink()
    with open(submission.path / "station_runner/data.bin", "wb") as big:  # sparse: no disk used
        big.truncate(101 << 20)
    result = grade(submission.path, quick_assignment, tmp_path / "out2", progress=lambda _m: None)
    assert "too large" in result.error.en and "너무 큽니다" in result.error.ko


def test_the_platforms_safety_mux_cannot_be_replaced_or_bypassed(
    submission, quick_assignment, tmp_path
):
    launch = submission.launch_file.read_text()
    # 1. A node of the student's own, launched under the mux's name.
    submission.launch_file.write_text(
        launch.replace(
            "pkg: teleop_pkg\n      exec: safety_mux", "pkg: station_runner\n      exec: navigator"
        )
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out1", progress=lambda _m: None)
    assert result.points == 0.0 and "must be the platform's own (teleop_pkg safety_mux)" in (
        result.error.en
    )
    assert result.error.location.startswith("plating_stations.launch.yaml:")
    # 2. A package of the student's own that takes the platform's package name.
    submission.launch_file.write_text(launch)
    package_xml = submission.path / "station_runner/package.xml"
    package_xml.write_text(package_xml.read_text().replace(">station_runner<", ">teleop_pkg<"))
    result = grade(submission.path, quick_assignment, tmp_path / "out2", progress=lambda _m: None)
    assert "belongs to the platform" in result.error.en and "플랫폼 패키지" in result.error.ko
    # 3. The navigator driving /cmd_vel itself, next to the mux (its remap taken out of the
    # launch file, and /cmd_vel_autonomy fed too, to look right): spoofing, seen live.
    package_xml.write_text(package_xml.read_text().replace(">teleop_pkg<", ">station_runner<"))
    remap = "      remap:\n        - {from: /cmd_vel, to: /cmd_vel_autonomy}\n"
    assert remap in launch
    submission.launch_file.write_text(launch.replace(remap, ""))
    submission.edit(
        "        self.create_timer(0.1, self.control)",
        "        self.create_timer(0.1, self.control)\n"
        "        self.autonomy_pub = self.create_publisher(self.msg_type, '/cmd_vel_autonomy', 10)",
    )
    submission.edit(
        "        self.cmd_pub.publish(msg)",
        "        self.cmd_pub.publish(msg)\n        self.autonomy_pub.publish(msg)",
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out3", progress=lambda _m: None)
    assert ("/cmd_vel", "/navigator") in result.episodes[0].spoofers


def test_a_sandbox_without_cgroups_says_which_limit_is_missing_in_both_languages(monkeypatch):
    # A machine whose cgroup hierarchies offer none of memory, pids and cpu (a container
    # without them, a laptop without root): the run goes on, and says what it lacks.
    monkeypatch.setattr(CgroupLayout, "detect", classmethod(lambda cls: cls()))
    info = SandboxInfo(network=True)
    box = Sandbox.for_run(info, f"test-{os.getpid()}", readonly=())
    assert box.cgroup is None and info.filesystem
    assert not info.cgroups and not info.complete
    assert (info.cgroup_version, info.memory_limit_bytes, info.pids_limit) == (None, None, None)
    assert info.cpu_limit_cores is None
    gaps = "\n".join(f"{en} / {ko}" for en, ko in info.missing)
    for en, ko in (("memory", "메모리"), ("process", "프로세스 수"), ("CPU", "CPU 제한")):
        assert f"no {en} limit per run" in gaps and ko in gaps, gaps
    record = info.as_dict()
    assert record["cgroup_limits"] is False and record["complete"] is False
    assert record["cpu_limit_cores"] is None and len(record["missing"]) == 3


def test_a_complete_sandbox_records_each_limit_in_result_json():
    info = SandboxInfo(
        network=True,
        filesystem=True,
        cgroup_version=2,
        memory_limit_bytes=MEMORY_LIMIT_BYTES,
        pids_limit=PIDS_LIMIT,
        cpu_limit_cores=1.0,
    )
    assert info.complete
    record = info.as_dict()
    assert record["complete"] and record["cgroup_limits"] and record["bubblewrap"]
    assert (record["cgroup_version"], record["cpu_limit_cores"]) == (2, 1.0)
    assert SandboxInfo.from_dict(json.loads(json.dumps(record))) == info
    no_cpu = SandboxInfo.from_dict({**record, "cpu_limit_cores": None})
    assert not no_cpu.complete  # memory and processes alone are not the whole sandbox
