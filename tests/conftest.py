import os
import shutil
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

ASSIGNMENT_DIR = (
    Path(__file__).resolve().parents[1] / "src/curriculum_pkg/assignments/plating_stations"
)
STARTER_NODE = "station_runner/station_runner/navigator_node.py"
STARTER_LAUNCH = "station_runner/launch/plating_stations.launch.yaml"


@pytest.fixture(scope="session")
def grading_secret(tmp_path_factory):
    """A teacher's grading secret, so that hidden variants are graded too."""
    from curriculum_pkg.hidden import new_secret_file

    return new_secret_file(tmp_path_factory.mktemp("teacher") / "grading.secret")


@pytest.fixture
def assignment_dir():
    return ASSIGNMENT_DIR


@pytest.fixture(scope="session")
def quick_assignment(tmp_path_factory):
    """The plating assignment with one visible episode at a faster real-time factor, for tests."""
    from curriculum_pkg.assignment import load_assignment

    data = yaml.safe_load((ASSIGNMENT_DIR / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": "banwol_plating_01", "variants": 1, "seed": 1}]
    data["real_time_factor"] = 6.0
    data.pop("reference")
    data.pop("starter")
    path = tmp_path_factory.mktemp("assignment") / "assignment.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_assignment(path)


@pytest.fixture
def submission(tmp_path):
    """A writable copy of the starter; `edit(old, new)` patches its node, `path` is the folder."""
    dest = tmp_path / "submission"
    shutil.copytree(ASSIGNMENT_DIR / "starter", dest)

    class Submission:
        path = dest
        node_file = dest / STARTER_NODE
        launch_file = dest / STARTER_LAUNCH

        def edit(self, old: str, new: str) -> None:
            text = self.node_file.read_text()
            assert old in text, f"starter no longer contains {old!r}"
            self.node_file.write_text(text.replace(old, new))

    return Submission()
