"""Lockstep pacing (sim_pkg.lockstep): what the simulator sees of other processes through /proc,
and that a graph's answer is in before the next tick however busy the machine is.

Real child processes and real rclpy; nothing here asserts on a wall-clock duration (a deadline
only bounds a wait, so a loaded machine makes these tests slower, never red).
"""

import hashlib
import math
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from lockstep_probe_node import READY_LINE
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile

from common_pkg.worldspec import load_world
from sim_pkg.lockstep import LockstepPacer, ThreadWatch
from sim_pkg.nodes.bridge_node import SimBridge, run_paced, spin_in_background
from sim_pkg.pacing import Pacer
from sim_pkg.world import SimWorld

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parents[1] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
LONG_WAIT_S = 60.0  # bounds a wait that must succeed; never reached unless something is broken
TICK_S = 0.02  # the pacer tests' own clock period

# Child processes. Each writes b"r" on stderr once it has reached the state the test is about.
BLOCKED_ON_PIPE = """
import os
os.write(2, b"r")
os.read(0, 1)
"""
BUSY_LOOP = """
import os
os.write(2, b"r")
while True:
    pass
"""
# A busy loop for one wall second, then blocked on its stdin.
BUSY_THEN_BLOCKED = """
import os, time
os.write(2, b"r")
end = time.monotonic() + 1.0
while time.monotonic() < end:
    pass
os.read(0, 1)
"""
# For every byte in, a few milliseconds of hashing, then one byte out.
PASSES_ON_AFTER_WORK = """
import hashlib, os
os.write(2, b"r")
while os.read(0, 1):
    digest = b"question"
    for _ in range(3000):
        digest = hashlib.sha256(digest).digest()
    os.write(1, b"a")
"""
BUSY_SECOND_THREAD = """
import os, threading

def spin():
    while True:
        pass

threading.Thread(target=spin, daemon=True).start()
os.write(2, b"r")
os.read(0, 1)
"""
# Calls itself "bwrap" (the name of the sandbox's processes, which only wait), then busy loops.
BUSY_NAMED_BWRAP = """
import ctypes, os
ctypes.CDLL(None).prctl(15, b"bwrap", 0, 0, 0)  # PR_SET_NAME
assert open("/proc/self/comm").read().strip() == "bwrap"
os.write(2, b"r")
while True:
    pass
"""
# A second thread burns CPU until a byte comes, then ends; the main thread stays.
WORKER_THREAD_ENDS = """
import hashlib, os, threading

stop = threading.Event()

def burn():
    digest = b"work"
    while not stop.is_set():
        digest = hashlib.sha256(digest).digest()

worker = threading.Thread(target=burn)
worker.start()
os.write(2, b"r")
os.read(0, 1)
stop.set()
worker.join()
os.read(0, 1)
"""
# Waits for a byte, works for a moment, exits.
ENDS_AFTER_WORK = """
import hashlib, os
os.write(2, b"r")
os.read(0, 1)
digest = b"last words"
for _ in range(100000):
    digest = hashlib.sha256(digest).digest()
"""


@pytest.fixture
def child():
    """start(code, stdout) -> a running `python -c code` that has written its b"r"; killed
    afterwards. stdin is a pipe from this process, stdout one to it unless given."""
    started: list[subprocess.Popen] = []

    def start(code: str, stdout=subprocess.PIPE) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        started.append(proc)
        assert proc.stderr.read(1) == b"r", "the child did not start"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def watching(proc: subprocess.Popen) -> ThreadWatch:
    watch = ThreadWatch(lambda: [proc.pid], include_self=False)
    watch.refresh()
    return watch


def soon(seconds: float) -> float:
    return time.monotonic() + seconds


def wait_for(condition, timeout_s: float = LONG_WAIT_S) -> bool:
    deadline = soon(timeout_s)
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(condition())


def burn_until(stop: threading.Event) -> None:
    """Keeps a CPU busy without holding the GIL (hashlib lets it go for large buffers), so the
    thread calling wait_quiet is never what keeps this one waiting."""
    block = bytes(1 << 20)
    while not stop.is_set():
        hashlib.sha256(block).digest()


# ------------------------------------------------------------------------------- ThreadWatch


def test_watch_is_quiet_while_the_child_is_blocked_on_a_pipe(child):
    watch = watching(child(BLOCKED_ON_PIPE))
    assert watch.thread_count == 1
    assert watch.wait_quiet(soon(LONG_WAIT_S))


def test_watch_is_never_quiet_while_the_child_busy_loops(child):
    watch = watching(child(BUSY_LOOP))
    assert not watch.wait_quiet(soon(0.3))


@pytest.mark.parametrize("relays", [0, 1], ids=["one-process", "relayed-by-a-second"])
def test_watch_turns_quiet_only_once_the_answer_is_readable(child, relays):
    """The core of lockstep: a byte written wakes its reader before write() returns, so the
    watch cannot see the graph quiet between the question and the answer, however many
    processes it passes through."""
    answerer = child(PASSES_ON_AFTER_WORK)
    chain = [answerer]
    for _ in range(relays):
        chain.insert(0, child(PASSES_ON_AFTER_WORK, stdout=chain[0].stdin))
    watch = ThreadWatch(lambda: [proc.pid for proc in chain], include_self=False)
    watch.refresh()
    missed = []
    for question in range(200):
        os.write(chain[0].stdin.fileno(), b"q")
        assert watch.wait_quiet(soon(LONG_WAIT_S))
        readable, _, _ = select.select([answerer.stdout], [], [], 0)
        if not readable:
            missed.append(question)
        assert os.read(answerer.stdout.fileno(), 1) == b"a"  # blocks until it comes, if late
    assert missed == [], f"quiet before the answer was in, at questions {missed}"


def test_a_process_that_names_itself_bwrap_is_still_watched(child):
    """The sandbox's own bwrap processes are left out by the file they run, not by a name any
    student process can take."""
    watch = watching(child(BUSY_NAMED_BWRAP))
    assert watch.thread_count == 1
    assert not watch.wait_quiet(soon(0.3))


def test_the_sandboxs_own_bwrap_processes_are_left_out():
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap is not installed (make setup installs it)")
    args = [bwrap, "--unshare-user", "--unshare-pid", "--die-with-parent"]
    for path in ("/usr", "/lib", "/lib64", "/bin"):
        args += ["--ro-bind-try", path, path]
    proc = subprocess.Popen([*args, "--proc", "/proc", "--dev", "/dev", "--", "/bin/sleep", "30"])
    try:
        assert wait_for(lambda: len(_children(proc.pid)) == 1)  # the sandbox's pid 1
        inner = _children(proc.pid)[0]
        watch = ThreadWatch(lambda: [proc.pid, inner], include_self=False)
        watch.refresh()
        assert watch.thread_count == 0
    finally:
        proc.kill()
        proc.wait()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def test_watch_sees_every_thread_of_a_child(child):
    watch = watching(child(BUSY_SECOND_THREAD))
    assert watch.thread_count == 2
    assert not watch.wait_quiet(soon(0.3))  # the main thread sleeps; the second one does not


def test_watch_of_this_process_counts_its_other_threads_never_the_caller():
    watch = ThreadWatch(lambda: [], include_self=True)
    watch.refresh()
    # The calling thread is running while it looks: were it counted, this could never be True.
    assert watch.wait_quiet(soon(LONG_WAIT_S))
    stop = threading.Event()
    burner = threading.Thread(target=burn_until, args=(stop,), name="burner")
    burner.start()
    try:
        watch.refresh()
        assert not watch.wait_quiet(soon(0.3))
    finally:
        stop.set()
        burner.join()
    watch.refresh()
    assert watch.wait_quiet(soon(LONG_WAIT_S))


def test_watch_survives_a_process_that_ends_while_watched(child):
    proc = child(ENDS_AFTER_WORK)
    watch = watching(proc)
    os.write(proc.stdin.fileno(), b"go")  # it works, then exits (not yet reaped: a zombie)
    assert watch.wait_quiet(soon(LONG_WAIT_S))
    proc.wait()  # reaped: its /proc entries are gone, the watch's files still open
    assert watch.wait_quiet(soon(LONG_WAIT_S))
    watch.cpu_use()
    watch.refresh()
    assert watch.thread_count == 0
    assert watch.wait_quiet(soon(LONG_WAIT_S))
    watch.close()


def test_watch_cpu_use_keeps_what_ended_threads_used(child):
    proc = child(WORKER_THREAD_ENDS)
    watch = watching(proc)
    assert watch.thread_count == 2
    assert wait_for(lambda: watch.cpu_use().run_s > 0.05)  # the worker has used some CPU
    before = watch.cpu_use()
    os.write(proc.stdin.fileno(), b"stop")

    def worker_gone() -> bool:
        watch.refresh()
        return watch.thread_count == 1

    assert wait_for(worker_gone)
    after = watch.cpu_use()
    assert after.run_s >= before.run_s and after.delay_s >= before.delay_s


# ----------------------------------------------------------------------------- LockstepPacer


def drive(pacer, sim_s: float):
    """Tick a pacer as the bridge does, every TICK_S of sim time, up to `sim_s`."""
    for tick in range(1, round(sim_s / TICK_S) + 1):
        pacer.wait_until(tick * TICK_S)
    return pacer.report()


def test_lockstep_goes_on_without_a_graph_that_never_goes_quiet(child):
    pacer = LockstepPacer(watching(child(BUSY_LOOP)), wall_per_sim_s=0.2)
    report = drive(pacer, 3.0)
    assert report.mode == "lockstep"
    assert report.ticks == round(3.0 / TICK_S)
    # Never quiet: every tick ran without the graph (the budget, spent at a second's first
    # tick, lets the rest of that second go).
    assert report.unsynced_ticks == report.ticks
    assert report.held_seconds == 3
    assert report.graph_cpu_s > 0


def test_a_graph_that_never_goes_quiet_keeps_only_its_first_second_waiting_in_full(child):
    # A busy loop must not make a grading last wall_per_sim_s per simulated second: after a
    # second it held, the next waits at most held_budget_s (the fixed factor's pace).
    pacer = LockstepPacer(watching(child(BUSY_LOOP)), wall_per_sim_s=1.0, held_budget_s=0.05)
    report = drive(pacer, 3.0)
    assert report.held_seconds == 3 and report.unsynced_ticks == report.ticks
    # 1.0 s for the first second, 0.05 s for each of the other two (3.0 s with full budgets);
    # the margin is for the polls' granularity on a busy machine.
    assert report.waited_s < 1.0 + 2 * 0.05 + 0.5


def test_a_graph_that_answers_every_tick_too_slowly_holds_its_seconds_too(child):
    # Every tick's answer comes, a few ms of hashing late: many short waits spend the budget.
    # Each second is held as surely as by a busy loop, and its rest runs without waiting.
    proc = child(PASSES_ON_AFTER_WORK)
    pacer = LockstepPacer(watching(proc), wall_per_sim_s=0.05, held_budget_s=0.01)
    for tick in range(1, round(2.0 / TICK_S) + 1):
        os.write(proc.stdin.fileno(), b"q")  # the tick's question: a few ms of work
        pacer.wait_until(tick * TICK_S)
    report = pacer.report()
    assert report.unsynced_ticks > 0
    assert report.held_seconds == 2


def test_a_graph_that_catches_up_again_is_waited_for_again(child):
    # Busy for a wall second, then quiet: the short budgets end with the first second it did
    # not hold; the rest of the episode is in lockstep again.
    pacer = LockstepPacer(
        watching(child(BUSY_THEN_BLOCKED)), wall_per_sim_s=0.2, held_budget_s=0.02
    )
    report = drive(pacer, 60.0)
    assert 1 <= report.held_seconds < 59
    held_ticks = round(report.held_seconds / TICK_S)
    assert report.unsynced_ticks <= held_ticks < report.ticks


def test_lockstep_waits_for_a_sleeping_graph_at_every_tick(child):
    pacer = LockstepPacer(watching(child(BLOCKED_ON_PIPE)))
    report = drive(pacer, 3.0)
    assert (report.mode, report.ticks, report.unsynced_ticks) == (
        "lockstep",
        round(3.0 / TICK_S),
        0,
    )


def test_lockstep_keeps_under_its_real_time_factor_ceiling(child):
    pacer = LockstepPacer(watching(child(BLOCKED_ON_PIPE)), max_real_time_factor=4.0)
    report = drive(pacer, 1.0)
    assert report.max_real_time_factor == 4.0
    assert report.real_time_factor <= 4.0 * 1.05


def test_fixed_pacer_reports_its_target_and_ticks():
    report = drive(Pacer(0.0), 1.0)  # 0: as fast as it can
    assert (report.mode, report.ticks, report.max_real_time_factor) == ("fixed", 50, 0.0)
    assert report.unsynced_ticks == 0 and report.real_time_factor > 0


# --------------------------------------------------------------- across processes, over DDS

CLOCK_CHANNEL = "/rootroute_test/clock_probe"
PROBE_PERIOD_NS = 100_000_000  # lockstep_probe_node.PERIOD_S
EPISODE_S = 3.0


@pytest.fixture
def ros_context(ros_domain):
    """An rclpy context in this process on the test's own domain (like `ros_node`)."""
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain.domain_id)
    yield context
    rclpy.shutdown(context=context)


@pytest.fixture
def probe_module(monkeypatch):
    """lockstep_probe_node.py (next to this file) importable in the processes ros_process starts."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    )
    return "lockstep_probe_node"


@pytest.fixture
def cpu_hog():
    """A context manager that keeps every CPU this test may use busy with its own processes."""
    hogs: list[subprocess.Popen] = []

    class Hog:
        def __enter__(self):
            for _ in range(max(2, len(os.sched_getaffinity(0)))):
                hogs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))

        def __exit__(self, *exc):
            for proc in hogs:
                proc.kill()
                proc.wait()
            hogs.clear()

    yield Hog()
    for proc in hogs:
        proc.kill()
        proc.wait()


def wait_for_discovery(bridge: SimBridge, listen, probe: subprocess.Popen, cmd_topic: str):
    """Discovery runs in wall time; the clock must not start before the probe can hear it and
    we can hear the probe: both of its clock readers, both of our /cmd_vel readers matched."""
    bridge_cmd = next(s for s in bridge.subscriptions if s.topic_name == cmd_topic)
    channel = bridge.clock_channels[0]
    sensors = [p for p in bridge.publishers if p.topic_name in ("/scan", "/odom")]
    assert wait_for(
        lambda: (
            probe.poll() is not None
            or (
                channel.get_subscription_count() >= 2
                and all(p.get_subscription_count() >= 1 for p in sensors)
                and bridge_cmd.get_publisher_count() >= 1
                and listen.get_publisher_count() >= 1
                and READY_LINE in Path(probe.log_path).read_text()
            )
        )
    ), "the probe and the bridge did not discover each other"
    assert probe.poll() is None, Path(probe.log_path).read_text()


def commands_at_each_tick(ros_context, start_probe, profile, sim_s: float):
    """Run the bridge in lockstep with one probe process for `sim_s` of sim time; returns
    [(tick time ns, the latest (linear.x, linear.y, linear.z) heard on /cmd_vel by then, or
    None, (scans, odometry messages) the bridge had published by then)] and the pacing report."""
    cmd_topic = profile.topics["cmd_vel"].name
    world = SimWorld(load_world(SCENARIO), profile)
    bridge = SimBridge(world, context=ros_context)
    bridge.add_clock_channel(CLOCK_CHANNEL)
    listener = rclpy.create_node("cmd_listener", context=ros_context)
    heard: list[tuple[float, float, float]] = []
    listen = listener.create_subscription(
        TwistStamped,
        cmd_topic,
        lambda msg: heard.append((msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z)),
        QoSProfile(depth=10),
    )
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(bridge)
    executor.add_node(listener)
    spinner = spin_in_background(executor)
    probe = start_probe(
        "-r", f"/clock:={CLOCK_CHANNEL}", params={"use_sim_time": "true", "readers": 2}
    )
    try:
        wait_for_discovery(bridge, listen, probe, cmd_topic)
        clock_topic, odom_topic = profile.topics["clock"].name, profile.topics["odom"].name
        ticks_ns: list[int] = []
        odoms_published = [0]
        seen: list[tuple] = []

        def on_clock(topic, _msg, sim_time_ns):
            if topic == clock_topic:
                ticks_ns.append(sim_time_ns)
            odoms_published[0] += topic == odom_topic

        def on_step():  # after a tick's step: the probe's answer to this tick must be in
            if len(seen) < len(ticks_ns):
                published = (bridge.scans_published, odoms_published[0])
                seen.append((ticks_ns[-1], heard[-1] if heard else None, published))

        bridge.tap = on_clock
        pacer = LockstepPacer(ThreadWatch(lambda: [probe.pid]), wall_per_sim_s=30.0)
        run_paced(bridge, sim_s, on_step=on_step, pacer=pacer)
        report = pacer.report()
        pacer.watch.close()
        return seen, report
    finally:
        probe.terminate()
        try:
            probe.wait(timeout=10)
        except subprocess.TimeoutExpired:
            probe.kill()
            probe.wait()
        executor.shutdown()
        spinner.join(timeout=10)
        bridge.destroy_node()
        listener.destroy_node()
        world.close()


def expected_commands(ticks_ns: list[int]) -> list[float | None]:
    """What the probe has sent by each tick, in lockstep: its timer is due every 0.1 s of sim
    time, fires at the first tick at or past that (sending the tick's time), and the command is
    in before that tick ends."""
    due_ns, last, expected = PROBE_PERIOD_NS, None, []
    for t_ns in ticks_ns:
        if t_ns >= due_ns:
            last = round(t_ns * 1e-9, 2)
            while due_ns <= t_ns:  # a timer skips the periods it missed, as rcl's does
                due_ns += PROBE_PERIOD_NS
        expected.append(last)
    return expected


def test_lockstep_graph_answers_at_the_same_tick_on_a_quiet_and_a_busy_machine(
    ros_context, ros_process, probe_module, profile, cpu_hog
):
    def start_probe(*ros_args, params):
        return ros_process(probe_module, *ros_args, params=params)

    quiet, quiet_report = commands_at_each_tick(ros_context, start_probe, profile, EPISODE_S)
    with cpu_hog:
        busy, busy_report = commands_at_each_tick(ros_context, start_probe, profile, EPISODE_S)

    ticks = math.ceil(EPISODE_S / (profile.control_period_s * profile.steps_per_tick) - 1e-6)
    for report, seen in ((quiet_report, quiet), (busy_report, busy)):
        assert (report.mode, report.ticks, len(seen)) == ("lockstep", ticks, ticks)
        assert report.unsynced_ticks == 0, report
    assert busy_report.graph_cpu_wait_s > 0  # the hog did compete with the graph for the CPUs
    times = [command and command[0] for _, command, _ in quiet]
    assert times == expected_commands([t for t, _, _ in quiet])
    # No sensor message is lost on the way, at rest or under the hog (the lidar is best effort):
    # a command sent at a tick counts every scan and odometry message of the ticks before it
    # (at a tick the clock goes out before that tick's sensor data).
    for seen in (quiet, busy):
        published_before = {}
        previous = (0, 0)
        for t_ns, _command, published in seen:
            published_before[round(t_ns * 1e-9, 2)] = previous
            previous = published
        counts = {c[0]: (c[1], c[2]) for _, c, _ in seen if c is not None}
        assert counts and counts == {t: published_before[t] for t in counts}
        assert max(n for n, _ in counts.values()) >= 10  # 5 Hz lidar, 3 s: scans were counted
    assert busy == quiet
