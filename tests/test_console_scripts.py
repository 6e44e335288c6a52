"""After `make setup`, every console script is where `ros2 run` looks (<venv>/lib/<pkg>/) and on the
PATH of the activated venv (<venv>/bin), so that `rootroute --help` just works."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
PACKAGES = sorted(p.parent.name for p in (REPO / "src").glob("*_pkg/setup.py"))

pytestmark = pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="not running in a venv")


def is_system_command(name: str) -> bool:
    """The Makefile leaves these out of <venv>/bin rather than hide them (iproute2's `bridge`)."""
    return any(Path(folder, name).exists() for folder in ("/usr/bin", "/usr/sbin", "/bin"))


def test_every_console_script_is_in_lib_pkg_for_ros2_run_and_in_the_venv_bin():
    for pkg in PACKAGES:
        scripts = metadata.distribution(pkg).entry_points.select(group="console_scripts")
        for name in scripts.names:
            installed = VENV / "lib" / pkg / name
            assert installed.is_file(), f"{installed}: missing, run make setup"
            if not is_system_command(name):
                assert (VENV / "bin" / name).resolve() == installed.resolve(), "run make setup"


def test_rootroute_help_works_in_the_activated_venv(tmp_path):
    # What `source .venv/bin/activate` does to the environment.
    env = {**os.environ, "VIRTUAL_ENV": str(VENV), "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["rootroute", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage: rootroute" in done.stdout
