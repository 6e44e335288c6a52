"""The lab robot's way: `colcon build --merge-install` of src/, then a node run from the install space.

The node runs as `ros2 run teleop_pkg safety_mux` would start it (install/lib/teleop_pkg/safety_mux),
with no checkout in sight: its Python path holds the install space and the venv's third-party
packages only, $AMENT_PREFIX_PATH the install space, its working folder an empty one. Its robot
profile must come from share/common_pkg/config through the ament index, and it must never import
MuJoCo or the simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from geometry_msgs.msg import TwistStamped

REPO = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent.name for p in (REPO / "src").glob("*_pkg/package.xml"))
ROBOT_SIDE = ("common_pkg", "teleop_pkg", "planning_pkg", "perception_pkg")  # no MuJoCo there
PROFILE = "share/common_pkg/config/robots/turtlebot3_waffle_pi_omx.yaml"
INSTALLED_MAX_LINEAR_MPS = 0.11  # the installed profile's limit, edited below (the checkout: 0.26)
# Loaded first by the node's interpreter (sitecustomize): drops the checkout's folders that the
# venv's editable installs (easy-install.pth) put on sys.path, and refuses MuJoCo and sim_pkg,
# writing down who asked.
ROBOT_SITE = """
import os, sys
SRC = {src!r}
sys.path[:] = [p for p in sys.path if not (os.path.abspath(p or ".") + os.sep).startswith(SRC)]

class NotOnTheRobot:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("mujoco", "sim_pkg"):
            with open({log!r}, "a") as log:
                log.write(name + "\\n")
            raise ImportError(f"{{name}} is not installed on the lab robot")
        return None

sys.meta_path.insert(0, NotOnTheRobot())
"""


def colcon_build(workspace: Path) -> Path:
    """Build every package of src/ into `workspace`/install, as on the robot; return that."""
    env = {**os.environ, "COLCON_HOME": str(workspace / "colcon_home")}  # no user defaults
    env.pop("AMENT_PREFIX_PATH", None)
    build, install = workspace / "build", workspace / "install"
    command = [sys.executable, "-m", "colcon", "--log-base", str(workspace / "log"), "build"]
    command += ["--merge-install", "--base-paths", str(REPO / "src")]
    command += ["--build-base", str(build), "--install-base", str(install)]
    done = subprocess.run(
        command, cwd=workspace, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return install


@pytest.fixture(scope="module")
def install_space(tmp_path_factory) -> Path:
    return colcon_build(tmp_path_factory.mktemp("colcon_ws"))


def robot_env(install: Path, site: Path, domain_env: dict[str, str]) -> dict[str, str]:
    """A shell on the robot after `source install/setup.bash`: no checkout, no $ROOTROUTE_CONFIG."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ROOTROUTE_CONFIG")}
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(install)}))
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(purelib)])
    env["AMENT_PREFIX_PATH"] = str(install)
    return {**env, **domain_env, "ROS_LOG_DIR": str(site.parent / "ros_log")}


def test_colcon_install_space_holds_every_package_its_scripts_and_its_data(install_space):
    for pkg in PACKAGES:
        assert (install_space / "share/ament_index/resource_index/packages" / pkg).is_file()
    assert (install_space / "lib/teleop_pkg/safety_mux").is_file()
    assert (install_space / "lib/curriculum_pkg/rootroute").is_file()
    assert (install_space / PROFILE).is_file()
    assert (install_space / "share/common_pkg/config/dds/fastdds_graph_discovery.xml").is_file()
    scenarios = install_space / "share/curriculum_pkg/scenarios"
    assert (scenarios / "banwol_plating_01.yaml").is_file()
    assignment = install_space / "share/curriculum_pkg/assignments/plating_stations"
    assert (assignment / "assignment.yaml").is_file()
    assert (assignment / "starter/station_runner/package.xml").is_file()


def robot_site(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with the ROBOT_SITE sitecustomize, and the file where refused imports are listed."""
    site, refused = tmp_path / "robot_site", tmp_path / "imports_refused.txt"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        ROBOT_SITE.format(src=str(REPO / "src") + os.sep, log=str(refused))
    )
    return site, refused


# Dataset rendering for training the PCB inspector (a dev tool on a laptop, never on the robot).
NEEDS_THE_SIMULATOR = {"perception_pkg.pcb_scene"}
IMPORT_ALL = """
import importlib, pkgutil, sys
skip = set(sys.argv[2:])
for pkg in sys.argv[1].split(","):
    for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
        if info.name not in skip:
            importlib.import_module(info.name)
print("imported")
"""


def test_robot_side_packages_import_every_module_from_the_install_space_without_mujoco(
    install_space, tmp_path
):
    site, refused = robot_site(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, ",".join(ROBOT_SIDE), *NEEDS_THE_SIMULATOR],
        cwd=tmp_path,
        env=robot_env(install_space, site, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "imported", done.stderr[-3000:]
    assert not refused.exists(), refused.read_text()


def test_safety_mux_runs_from_the_install_space_with_the_installed_profile_and_no_mujoco(
    install_space, ros_domain, ros_node, tmp_path
):
    # The installed copy of the profile, not the checkout's: a slower robot, seen at the output.
    profile = install_space / PROFILE
    text = profile.read_text()
    assert "max_linear_mps: 0.26" in text
    profile.write_text(
        text.replace("max_linear_mps: 0.26", f"max_linear_mps: {INSTALLED_MAX_LINEAR_MPS}")
    )
    site, imports_refused = robot_site(tmp_path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    command = [str(install_space / "lib/teleop_pkg/safety_mux"), "--ros-args"]
    command += ["-p", "require_scan:=false"]
    log = tmp_path / "safety_mux.log"
    with log.open("w") as out_file:
        mux = subprocess.Popen(
            command,
            cwd=cwd,
            env=robot_env(install_space, site, ros_domain.env()),
            stdout=out_file,
            stderr=subprocess.STDOUT,
        )
    try:
        out: list[float] = []
        ros_node.create_subscription(
            TwistStamped, "/cmd_vel", lambda m: out.append(m.twist.linear.x), 10
        )
        teleop = ros_node.create_publisher(TwistStamped, "/cmd_vel_teleop", 10)

        def command_full_speed() -> None:
            msg = TwistStamped()
            msg.header.stamp = ros_node.get_clock().now().to_msg()
            msg.twist.linear.x = 0.25
            teleop.publish(msg)

        ros_node.create_timer(0.05, command_full_speed)
        # The ramp (0.5 m/s^2) reaches the installed limit in 0.22 s; then it holds there.
        reached = ros_node.spin_until(
            lambda: len(out) > 5 and out[-1] >= INSTALLED_MAX_LINEAR_MPS - 1e-6, 15
        )
        assert reached, log.read_text()[-2000:] + f"\noutputs: {out[-10:]}"
        assert max(out) == pytest.approx(INSTALLED_MAX_LINEAR_MPS)
        assert mux.poll() is None, log.read_text()[-2000:]
        maps = Path(f"/proc/{mux.pid}/maps").read_text()
    finally:
        mux.terminate()
        try:
            mux.wait(timeout=10)
        except subprocess.TimeoutExpired:
            mux.kill()
            mux.wait()
    assert "mujoco" not in maps.lower()
    assert not imports_refused.exists(), imports_refused.read_text()
