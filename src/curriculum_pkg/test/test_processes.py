"""Stopping a run's processes (curriculum_pkg.processes.kill_all), with real child processes."""

import shutil
import subprocess
import sys

import pytest

from curriculum_pkg.launchfile import NodeSpec
from curriculum_pkg.processes import NodeProcess, kill_all

# Calls itself "bwrap", the name of the sandbox's own processes (which kill_all leaves to end by
# themselves), and says whether it got the SIGTERM a node gets so it can shut down.
NAMED_BWRAP = """
import ctypes, os, signal, sys, time
ctypes.CDLL(None).prctl(15, b"bwrap", 0, 0, 0)  # PR_SET_NAME
def on_term(*_):
    open(sys.argv[1], "w").write("SIGTERM")
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
os.write(1, b"r")
while True:
    time.sleep(1)
"""


def _node(popen: subprocess.Popen, tmp_path) -> NodeProcess:
    return NodeProcess(NodeSpec("pkg", "exe", "node"), popen, tmp_path / "node.log", 1 << 20)


def test_a_process_that_names_itself_bwrap_still_gets_its_sigterm(tmp_path):
    said = tmp_path / "said"
    popen = subprocess.Popen([sys.executable, "-c", NAMED_BWRAP, str(said)], stdout=subprocess.PIPE)
    assert popen.stdout.read(1) == b"r"
    kill_all([_node(popen, tmp_path)], "run-test", grace_s=5.0)
    assert popen.poll() is not None
    assert said.read_text() == "SIGTERM"


def test_the_sandboxs_own_bwrap_is_left_to_end_with_its_child(tmp_path):
    """SIGTERM to bubblewrap would SIGKILL its sandbox at once; the node inside gets it instead
    and shuts down cleanly, and bubblewrap ends with it."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap is not installed")
    said = tmp_path / "said"
    args = [bwrap, "--dev-bind", "/", "/", "--die-with-parent", "--"]
    popen = subprocess.Popen(
        [*args, sys.executable, "-c", NAMED_BWRAP, str(said)], stdout=subprocess.PIPE
    )
    assert popen.stdout.read(1) == b"r"
    kill_all([_node(popen, tmp_path)], "run-test", grace_s=5.0)
    assert said.read_text() == "SIGTERM"
    assert popen.returncode == 0  # bubblewrap passed on its child's clean exit
