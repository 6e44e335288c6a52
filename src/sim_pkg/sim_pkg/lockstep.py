"""Lockstep pacing: simulated time advances only once the node graph has caught up.

At every clock tick the simulator publishes the new time, and then the sensor data due. Every
process that reacts is woken by the kernel before `publish()` returns (a DDS write over shared
memory or loopback UDP wakes the reader at once), and so is every process the reaction is sent
on to. So "the graph has caught up" can be seen from outside, for any node in any language, in
/proc: no thread of the watched processes is runnable (state R) or in uninterruptible sleep (D),
and none has been scheduled since the look before (the third field of
/proc/<pid>/task/<tid>/schedstat counts the times a thread got a CPU). Only then does the
simulator go on, so what the graph sent in answer is in before the next step, however busy the
machine is.

This is the observable form of CARLA's synchronous mode (the server ticks once the client has
answered), Webots' controller steps and Gazebo's lockstep, for arbitrary processes; nothing
runs inside the student's process. A graph that never goes quiet (a busy loop) cannot freeze
time: `LockstepPacer` waits at most `wall_per_sim_s` wall seconds per simulated second, then
lets the rest of that second run without waiting, and counts those ticks (`unsynced_ticks`).
Nor can it make a grading last `wall_per_sim_s` times its simulated length: the second after one
the graph held past its budget waits at most `held_budget_s` (the grader passes the wall time a
simulated second takes at the assignment's fixed real-time factor), so a graph that never goes
quiet is run at about the speed of fixed grading; a second in which it caught up earns the full
budget back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

BUSY_STATES = (b"R", b"D")  # runnable / running, or uninterruptible sleep (I/O)
POLL_MIN_S = 0.0001  # between looks while the graph is busy, at first ...
POLL_MAX_S = 0.002  # ... and at most
SETTLE_STRETCH_MAX = 10  # settle_for: a window stretches to at most this many times its length


@dataclass(frozen=True)
class CpuUse:
    """CPU accounting of the watched threads, from schedstat, in seconds."""

    run_s: float = 0.0  # on a CPU
    delay_s: float = 0.0  # runnable but waiting for a CPU: what a busy machine costs


class ProgramFiles:
    """Tells whether a process runs one of some executables (found on the PATH), by the file it
    runs: /proc/PID/exe's device and inode, wherever that file is mounted. Never by the process's
    name, which any process may set (prctl) to "bwrap"."""

    def __init__(self, programs: Iterable[str]):
        self._files = set()  # (st_dev, st_ino)
        for program in programs:
            with contextlib.suppress(OSError, TypeError):
                info = os.stat(shutil.which(program))
                self._files.add((info.st_dev, info.st_ino))

    def runs(self, pid: int) -> bool:
        try:
            info = os.stat(f"/proc/{pid}/exe")
        except OSError:  # ended, or not ours to look at
            return False
        return (info.st_dev, info.st_ino) in self._files


class ThreadWatch:
    """Looks at every thread of a set of processes through /proc.

    `pids` is called at each `refresh()` (processes come and go). `include_self`: watch this
    process's other threads too (the simulator's ROS executor receives the graph's commands),
    never the calling thread. `ignore_programs`: processes running one of these executables
    only wait for a child (bubblewrap); told by the file the process runs, never by its name,
    which any process may set to "bwrap". Files stay open between looks: a pread of a /proc
    file reads it afresh, at a third of the cost of opening it again.
    """

    def __init__(
        self,
        pids: Callable[[], Iterable[int]],
        include_self: bool = True,
        ignore_programs: tuple[str, ...] = ("bwrap",),
    ):
        self._pids = pids
        self._self = os.getpid() if include_self else None
        self._ignore = ProgramFiles(ignore_programs)
        self._ignored: dict[int, bool] = {}
        self._files: dict[str, tuple[int, int]] = {}  # task dir -> (stat fd, schedstat fd)
        self._order: list[tuple[int, int]] = []  # the same files, the last busy thread first
        self._last_use: dict[str, tuple[int, int]] = {}  # task dir -> (run, delay) ns last read
        self._gone = (0, 0)  # what threads that have ended had used when last read (ns)

    def close(self) -> None:
        for fds in self._files.values():
            for fd in fds:
                os.close(fd)
        self._files.clear()
        self._order = []

    def _is_ignored(self, pid: int) -> bool:
        known = self._ignored.get(pid)
        if known is None:
            known = self._ignored[pid] = self._ignore.runs(pid)
        return known

    def refresh(self) -> None:
        """Find the watched threads again (new processes, new threads, ended ones)."""
        me = threading.get_native_id()
        pids = [pid for pid in self._pids() if not self._is_ignored(pid)]
        if self._self is not None:
            pids.append(self._self)
        seen = set()
        for pid in pids:
            base = f"/proc/{pid}/task"
            try:
                tids = os.listdir(base)
            except OSError:
                continue
            for tid in tids:
                if pid == self._self and int(tid) == me:
                    continue
                task = f"{base}/{tid}"
                seen.add(task)
                if task not in self._files:
                    fds = _open_task(task)
                    if fds is not None:
                        self._files[task] = fds
        for task in [t for t in self._files if t not in seen]:  # ended threads
            for fd in self._files.pop(task):
                os.close(fd)
            run, delay = self._last_use.pop(task, (0, 0))
            self._gone = (self._gone[0] + run, self._gone[1] + delay)
        self._order = list(self._files.values())

    @property
    def thread_count(self) -> int:
        return len(self._files)

    def _busy(self) -> bool:
        order = self._order
        for i, (stat_fd, _) in enumerate(order):
            try:
                stat = os.pread(stat_fd, 512, 0)
            except OSError:
                continue  # ended: not busy
            # "tid (comm) S ...": the name may hold spaces and parentheses; the state follows
            # the last ')'.
            cut = stat.rfind(b")")
            if cut >= 0 and stat[cut + 2 : cut + 3] in BUSY_STATES:
                if i:  # look at it first next time: it is likely still busy
                    order.insert(0, order.pop(i))
                return True
        return False

    def _schedule_counts(self) -> list[int]:
        counts = []
        for _, sched_fd in self._files.values():
            try:
                counts.append(int(os.pread(sched_fd, 128, 0).split()[2]))
            except (OSError, IndexError, ValueError):
                counts.append(-1)
        return counts

    def wait_quiet(self, deadline: float) -> bool:
        """Wait until no watched thread is busy, then check that none got a CPU while it looked
        (a thread woken during the look has been scheduled, or its waker has). Returns False if
        `deadline` (time.monotonic()) came first. Threads found by the last `refresh()`."""
        pause = POLL_MIN_S
        while True:
            if not self._busy():
                counts = self._schedule_counts()
                if not self._busy() and self._schedule_counts() == counts:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            # Looking costs CPU the graph could use: look less often the longer it works.
            pause = min(pause * 1.5, POLL_MAX_S)

    def settle_for(self, window_s: float, deadline: float) -> None:
        """Let the graph run for `window_s` of time it did not spend waiting for a CPU (on a
        busy machine that takes longer), or until `deadline`. For work done in wall time that
        cannot be seen finishing, such as DDS discovery between two of the graph's processes
        (their background threads never fall quiet for long)."""
        start, waited0 = time.monotonic(), self.cpu_use().delay_s
        while time.monotonic() < deadline:
            time.sleep(window_s / 4)
            # Summed over threads, the wait can exceed the wall time: capped, so a busy machine
            # stretches the window but never without end.
            waited = min(self.cpu_use().delay_s - waited0, SETTLE_STRETCH_MAX * window_s)
            if time.monotonic() - start >= window_s + waited:
                return

    def cpu_use(self) -> CpuUse:
        """CPU use of the watched threads so far; a thread that has ended counts with what it
        had used when this was last asked."""
        self.refresh()
        run, delay = self._gone
        for task, (_, sched_fd) in self._files.items():
            try:
                fields = os.pread(sched_fd, 128, 0).split()
                use = (int(fields[0]), int(fields[1]))
            except (OSError, IndexError, ValueError):
                use = self._last_use.get(task, (0, 0))
            self._last_use[task] = use
            run += use[0]
            delay += use[1]
        return CpuUse(run / 1e9, delay / 1e9)


def _open_task(task: str) -> tuple[int, int] | None:
    try:
        stat_fd = os.open(f"{task}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        return stat_fd, os.open(f"{task}/schedstat", os.O_RDONLY)
    except OSError:
        os.close(stat_fd)
        return None


@dataclass(frozen=True)
class PacingReport:
    """How an episode was paced: what result.json and the report show."""

    mode: str  # "lockstep" or "fixed"
    real_time_factor: float  # achieved: simulated seconds per wall second
    max_real_time_factor: float  # the ceiling (lockstep) or the target (fixed); 0 = none
    wall_s: float
    ticks: int = 0
    unsynced_ticks: int = 0  # lockstep: ticks run without waiting (wall budget spent)
    held_seconds: int = 0  # lockstep: simulated seconds whose wall budget the graph used up
    waited_s: float = 0.0  # lockstep: wall time spent waiting for the graph
    graph_cpu_s: float = 0.0  # CPU time the watched processes used
    graph_cpu_wait_s: float = 0.0  # time they were ready to run but had no CPU

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "real_time_factor": round(self.real_time_factor, 2),
            "max_real_time_factor": self.max_real_time_factor,
            "wall_s": round(self.wall_s, 2),
            "ticks": self.ticks,
            "unsynced_ticks": self.unsynced_ticks,
            "held_seconds": self.held_seconds,
            "waited_s": round(self.waited_s, 2),
            "graph_cpu_s": round(self.graph_cpu_s, 2),
            "graph_cpu_wait_s": round(self.graph_cpu_wait_s, 2),
        }


class LockstepPacer:
    """Paces the simulator's tick loop in lockstep with the graph `watch` looks at.

    `settle()` waits for the graph (the bridge calls it between the steps of one tick);
    `wait_until()` ends a tick. `wall_per_sim_s`: the most wall time the graph may keep one
    simulated second waiting; past it the rest of that second runs without waiting, so no node
    can freeze time. `held_budget_s`: the most it may keep the next second waiting (a busy loop
    holds every second: it must not cost `wall_per_sim_s` each); a second the graph did not hold
    is followed by the full budget again. `max_real_time_factor` > 0 caps the speed, for
    assignments that want "real" timing.
    """

    mode = "lockstep"

    def __init__(
        self,
        watch: ThreadWatch,
        sim_start_s: float = 0.0,
        wall_per_sim_s: float = 5.0,
        max_real_time_factor: float = 0.0,
        held_budget_s: float | None = None,
    ):
        self.watch = watch
        self.wall_per_sim_s = wall_per_sim_s
        self.held_budget_s = (
            wall_per_sim_s if held_budget_s is None else min(held_budget_s, wall_per_sim_s)
        )
        self.max_real_time_factor = max_real_time_factor
        self._wall0 = time.monotonic()
        self._sim0 = self._sim_now = sim_start_s
        self._second = 0
        self._budget_left_s = wall_per_sim_s
        self._synced = True  # this tick so far
        self._held = False  # this second: the graph kept it waiting past its budget
        self.ticks = 0
        self.unsynced_ticks = 0
        self.held_seconds = 0  # seconds whose budget the graph used up (the current one not yet)
        self.waited_s = 0.0
        self._cpu0 = watch.cpu_use()

    def settle(self) -> None:
        """Wait until the graph has caught up, within this simulated second's wall budget."""
        if self._budget_left_s <= 0:  # spent, by one long wait or by many short ones
            self._synced, self._held = False, True
            return
        t0 = time.monotonic()
        if not self.watch.wait_quiet(t0 + self._budget_left_s):
            self._synced = False
            self._held = True
        waited = time.monotonic() - t0
        self._budget_left_s -= waited
        self.waited_s += waited

    def wait_until(self, sim_time_s: float, settled: bool = False) -> None:
        """End the tick at `sim_time_s`: settle (unless nothing went out since the graph last
        settled: `settled`), keep to the ceiling, prepare the next tick."""
        if not settled:
            self.settle()
        self._sim_now = sim_time_s
        self.ticks += 1
        self.unsynced_ticks += not self._synced
        self._synced = True
        second = int(sim_time_s - self._sim0)
        if second != self._second:
            self.held_seconds += self._held
            budget = self.held_budget_s if self._held else self.wall_per_sim_s
            self._second, self._budget_left_s, self._held = second, budget, False
        if self.max_real_time_factor > 0:
            due = self._wall0 + (sim_time_s - self._sim0) / self.max_real_time_factor
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.watch.refresh()  # once a tick: new threads and processes are watched from now on

    @property
    def achieved_factor(self) -> float:
        wall = time.monotonic() - self._wall0
        return (self._sim_now - self._sim0) / wall if wall > 0 else 0.0

    def report(self) -> PacingReport:
        cpu = self.watch.cpu_use()
        return PacingReport(
            mode=self.mode,
            real_time_factor=self.achieved_factor,
            max_real_time_factor=self.max_real_time_factor,
            wall_s=time.monotonic() - self._wall0,
            ticks=self.ticks,
            unsynced_ticks=self.unsynced_ticks,
            held_seconds=self.held_seconds + self._held,
            waited_s=self.waited_s,
            graph_cpu_s=max(0.0, cpu.run_s - self._cpu0.run_s),
            graph_cpu_wait_s=max(0.0, cpu.delay_s - self._cpu0.delay_s),
        )
