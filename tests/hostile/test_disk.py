"""Hostile disk use: what a student's code can write to the grading machine's disk.

A full disk takes down the grader, every other run of the batch and the teacher's PC. A student
process writes only into the sandbox's private /tmp (memory, counted in the run's memory limit),
its log, and, while its packages install, the install space. The install space is a tmpfs of
INSTALL_SPACE_BYTES of the worker's own (gone with it); the logs of a run share
RUN_LOG_BUDGET_BYTES, split evenly between every node of every episode."""

from __future__ import annotations

import pytest

from curriculum_pkg.grader import grade
from curriculum_pkg.sandbox import (
    FILE_SIZE_LIMIT_BYTES,
    INSTALL_SPACE_BYTES,
    MIN_LOG_LIMIT_BYTES,
    RUN_LOG_BUDGET_BYTES,
    log_limit_bytes,
)


def _disk_bytes(folder) -> int:
    return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file())


def test_a_setup_py_writing_without_end_fills_its_install_space_not_the_disk(
    submission, quick_assignment, tmp_path
):
    chunks = INSTALL_SPACE_BYTES * 3 // 2 // (64 << 20)  # half as much again as the space holds
    setup_py = submission.path / "station_runner/setup.py"
    setup_py.write_text(
        "import os\n"
        "os.makedirs('junk', exist_ok=True)\n"
        f"for i in range({chunks}):\n"
        "    with open(f'junk/{i}.bin', 'wb') as f:\n"
        "        f.write(b'x' * (64 << 20))\n" + setup_py.read_text()
    )
    out = tmp_path / "out"
    result = grade(submission.path, quick_assignment, out, progress=lambda _m: None)
    assert result.points == 0.0 and not result.passed
    error = result.error
    assert error.location == "station_runner/setup.py"
    assert "filled the install space" in error.en and "설치 공간" in error.ko
    assert f"{INSTALL_SPACE_BYTES >> 20} MiB" in error.en
    assert _disk_bytes(out) < 64 << 20, "the junk reached the disk"
    assert not (out / "install").exists()  # the empty mount point is gone too


def test_the_log_limit_is_a_share_of_the_runs_budget_the_same_in_every_episode():
    assert log_limit_bytes(2, 1) == FILE_SIZE_LIMIT_BYTES  # a small graph: 256 MiB each
    assert log_limit_bytes(8, 1) == RUN_LOG_BUDGET_BYTES // 8
    assert log_limit_bytes(4, 6) == RUN_LOG_BUDGET_BYTES // 24
    assert log_limit_bytes(32, 200) == MIN_LOG_LIMIT_BYTES  # room for a traceback, always
    for nodes, episodes in ((2, 1), (8, 1), (4, 6), (32, 9)):
        total = nodes * episodes * log_limit_bytes(nodes, episodes)
        assert total <= max(RUN_LOG_BUDGET_BYTES, nodes * episodes * MIN_LOG_LIMIT_BYTES)


EXTRA_NODES = 6
PRINTS_WITHOUT_END = (
    'super().__init__("navigator")',
    'super().__init__("navigator")\n'
    "        line = 'x' * 4095\n"
    "        while True:\n"
    "            print(line)",
)


def test_a_node_printing_without_end_is_stopped_at_the_log_limit(
    submission, quick_assignment, tmp_path
):
    submission.edit(*PRINTS_WITHOUT_END)
    out = tmp_path / "out"
    result = grade(submission.path, quick_assignment, out, progress=lambda _m: None)
    assert result.points == 0.0
    assert "log limit" in result.error.en and "로그 한도" in result.error.ko
    assert max(f.stat().st_size for f in (out / "logs").rglob("*.log")) <= FILE_SIZE_LIMIT_BYTES


@pytest.fixture
def printing_graph(submission):
    """The navigator prints without end, and the launch file starts six more copies of it."""
    submission.edit(*PRINTS_WITHOUT_END)
    text = submission.launch_file.read_text()
    for i in range(EXTRA_NODES):
        text += (
            "  - node:\n"
            "      pkg: station_runner\n"
            "      exec: navigator\n"
            f"      name: navigator_copy_{i}\n"
        )
    submission.launch_file.write_text(text)
    return submission


def test_nodes_printing_without_end_share_the_runs_log_budget(
    printing_graph, quick_assignment, tmp_path
):
    nodes = EXTRA_NODES + 2  # the navigator, its copies, the safety mux
    limit = log_limit_bytes(nodes, 1)
    assert limit < FILE_SIZE_LIMIT_BYTES  # else this test shows nothing
    out = tmp_path / "out"
    result = grade(printing_graph.path, quick_assignment, out, progress=lambda _m: None)
    assert result.points == 0.0
    assert f"{limit >> 20} MiB log limit" in result.error.en
    assert f"로그 한도 {limit >> 20} MiB" in result.error.ko
    logs = [f.stat().st_size for f in (out / "logs").rglob("*.log")]
    assert max(logs) <= limit
    assert sum(logs) <= RUN_LOG_BUDGET_BYTES
