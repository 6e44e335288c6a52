"""`rootroute batch` on a busy class: the fair number of workers, the warning above it, the
progress bar with its ETA, and plain lines where there is no terminal."""

import io
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from rich.console import Console

from curriculum_pkg import batch
from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.batch import fair_workers, run_batch
from curriculum_pkg.batchbar import BatchBar
from curriculum_pkg.cgroups import CgroupLayout

GIB = 1 << 30
PLATING = load_assignment("plating_stations")


@pytest.fixture
def machine(monkeypatch):
    """This process as if on a machine with `cores` CPUs it may run on, `memory_gib` of memory
    and a CPU quota of `quota_cores` on its cgroup (None: no quota)."""

    def set_machine(cores: int, memory_gib: float, quota_cores: float | None = None) -> None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
        monkeypatch.setattr(
            psutil, "virtual_memory", lambda: SimpleNamespace(total=int(memory_gib * GIB))
        )
        monkeypatch.setattr(CgroupLayout, "cpu_quota_cores", lambda _self: quota_cores)

    return set_machine


@pytest.mark.parametrize(
    ("cores", "memory_gib", "quota_cores", "fair"),
    [
        (8, 64, None, 8),  # one run per core
        (2, 24, None, 2),  # the school's 2-core machine
        (8, 16, None, 2),  # 6 GiB a run: memory allows two
        (16, 64, 2.5, 2),  # a container's --cpus 2.5: two whole cores
        (1, 4, None, 1),  # never fewer than one
        (4, 64, 0.5, 1),
    ],
)
def test_fair_workers_is_one_run_per_usable_core_within_memory(
    machine, cores, memory_gib, quota_cores, fair
):
    machine(cores, memory_gib, quota_cores)
    assert fair_workers() == fair


def add_broken_submission(class_dir: Path, name: str) -> None:
    """A submission that does not install: graded in seconds, to a score of 0."""
    shutil.copytree(PLATING.starter_dir, class_dir / name)
    setup_py = class_dir / name / "station_runner/setup.py"
    setup_py.write_text(setup_py.read_text() + "\nthis is not python\n")


@pytest.fixture(scope="module")
def crowded_batch(tmp_path_factory, quick_assignment):
    """Two submissions graded two at a time on a machine that serves one run fairly, with the
    bar drawn to a terminal (a console that says it is one)."""
    root = tmp_path_factory.mktemp("crowded")
    add_broken_submission(root / "class", "team_a")
    add_broken_submission(root / "class", "team_b")
    messages = []
    terminal = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=160)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch, "usable_cpus", lambda: 1.0)
        with BatchBar(terminal) as bar:
            summary = run_batch(
                root / "class",
                quick_assignment,
                root / "out",
                workers=2,
                progress=messages.append,
                bar=bar,
            )
    return SimpleNamespace(summary=summary, log=messages, screen=terminal.file.getvalue())


def test_more_workers_than_fair_warns_korean_first_before_grading(crowded_batch):
    warnings = [m for m in crowded_batch.log if m.startswith("⚠️")]
    assert len(warnings) == 1
    warning = warnings[0]
    ko, en = warning.split("\n")
    assert ko.startswith("⚠️ 동시 채점 수(--workers) 2개는") and "공정하게 돌릴 수 있는 1개" in ko
    assert "CPU를 나눠 쓰게" in ko and "락스텝" in ko and "점수는 그대로" in ko
    assert en.startswith("⚠️ 2 workers (--workers) is more than") and "serves fairly: 1" in en
    assert "compete for CPU" in en and "lockstep" in en and "scores stay the same" in en
    first_start = next(i for i, m in enumerate(crowded_batch.log) if "채점 시작" in m)
    assert crowded_batch.log.index(warning) < first_start


def test_more_workers_than_fair_are_graded_at_once_as_asked(crowded_batch):
    assert set(crowded_batch.summary.graded) == {"team_a", "team_b"}
    assert any("동시 채점 / workers 2" in m for m in crowded_batch.log)
    started = [i for i, m in enumerate(crowded_batch.log) if "채점 시작 / grading" in m]
    scored = [i for i, m in enumerate(crowded_batch.log) if "점 / points" in m]
    assert len(started) == len(scored) == 2
    assert max(started) < min(scored)  # both ran at once, not capped to one


def test_the_bar_counts_every_submission_done(crowded_batch):
    final = crowded_batch.screen.rsplit("\r", 1)[-1]  # the bar's last frame
    assert "채점 / grading" in final and "2/2" in final


def test_as_many_workers_as_fair_give_no_warning(tmp_path, quick_assignment, monkeypatch):
    monkeypatch.setattr(batch, "usable_cpus", lambda: 2.0)
    monkeypatch.setattr(batch, "check_sandbox", _refuse)  # stop before grading anything
    messages = []
    add_broken_submission(tmp_path / "class", "team_a")
    with pytest.raises(batch.SandboxRefused):
        run_batch(
            tmp_path / "class", quick_assignment, tmp_path / "out", 2, progress=messages.append
        )
    assert messages == []


def _refuse(*_args):
    raise batch.SandboxRefused("sandbox", "refused by the test", "테스트가 거부함")


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_the_eta_comes_from_this_runs_rate_and_skipped_ones_are_done_at_once():
    clock = FakeClock()
    terminal = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=160)
    with BatchBar(terminal, clock=clock) as bar:
        bar.start(total=4, done=1)  # one skipped: unchanged since the last batch
        clock.now_s += 600  # the first graded one takes ten minutes
        bar.advance()
    final = terminal.file.getvalue().rsplit("\r", 1)[-1]
    # 2 of 4 done; two more at one per ten minutes: twenty minutes left
    assert "2/4" in final
    assert "경과 / elapsed 0:10:00" in final
    assert "남은 시간 / ETA 0:20:00" in final


def test_without_a_terminal_the_lines_stay_plain_and_no_bar_is_drawn():
    piped = Console(file=io.StringIO())  # as stdout piped to `tee`, or in CI
    long_error = "x" * 300
    lines = [
        "  [1/2] 채점 시작 / grading: team_[bold]a[/bold]",
        f"  [1/2] team_a: 채점 실패 / grading failed: {long_error}",
        "⚠️ 한국어 먼저\n⚠️ then English :warning:",
    ]
    with BatchBar(piped) as bar:
        bar.start(total=3, done=1)
        for line in lines:
            bar.line(line)
            bar.advance()
    out = piped.file.getvalue()
    assert out == "".join(line + "\n" for line in lines)  # no markup, emoji codes or wrapping
    assert "\x1b" not in out and "\r" not in out
    assert "채점 / grading" not in out and "ETA" not in out
