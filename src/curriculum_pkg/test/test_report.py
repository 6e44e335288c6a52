"""Reports from a grading result: result.json, report.md and the trajectory plot (no ROS)."""

import json
from pathlib import Path

import numpy as np
import yaml
from matplotlib.image import imread

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.episode import EpisodeMetrics
from curriculum_pkg.grader import EpisodeResult, GradeResult
from curriculum_pkg.preview import preview_layout
from curriculum_pkg.report import RESULT_SCHEMA_VERSION, write_reports
from curriculum_pkg.scoring import Criterion

PLATING = Path(__file__).resolve().parents[1] / "assignments/plating_stations"


def test_an_episode_among_workers_reports_collisions_and_near_misses(tmp_path):
    data = yaml.safe_load((PLATING / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": "sihwa_logistics_01", "variants": 1, "seed": 3}]
    data.pop("reference")
    data.pop("starter")
    (tmp_path / "assignment.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    assignment = load_assignment(tmp_path / "assignment.yaml")
    metrics = EpisodeMetrics(
        tasks_total=3,
        tasks_done=["navigate:incoming_dock"],
        collisions=[(37.1, "actor:forklift_1"), (40.0, "wall_north"), (41.0, "wall_north")],
        sim_time_s=60.0,
        trajectory=[(t, 1.0 + 0.08 * t, 3.0 + 0.02 * t) for t in np.arange(0, 60, 0.2)],
        min_worker_clearance_m=0.31,
        near_misses=[(20.0, "picker_1")],
    )
    episode = EpisodeResult(
        "sihwa_logistics_01",
        0,
        3,
        criteria=[Criterion("task", 1.0, 1 / 3, "1 of 3", "3개 중 1개")],
        metrics=metrics,
    )
    out = tmp_path / "out"
    out.mkdir()
    result = GradeResult(assignment, tmp_path / "sub", out, episodes=[episode])
    write_reports(result)

    saved = json.loads((out / "result.json").read_text())
    assert saved["schema_version"] == RESULT_SCHEMA_VERSION
    m = saved["episodes"][0]["metrics"]
    assert m["min_worker_clearance_m"] == 0.31
    assert m["near_misses"] == [{"t_s": 20.0, "worker": "picker_1"}]
    assert {"t_s": 37.1, "with": "actor:forklift_1"} in m["collisions"]
    report = (out / "report.md").read_text()
    assert "Closest to a worker: 0.31 m; 아차사고 / near misses: 1" in report
    # The plot is the scenario's preview with the trajectory on top: the robot's path is drawn
    # in blue where the preview's layout puts the trajectory's middle point.
    picture = imread(out / "trajectory_sihwa_logistics_01_v0.png")[..., :3]
    layout = preview_layout(assignment.runs[0].scenario.variant(0, 3))
    assert picture.shape[1::-1] == tuple(layout.size_px)

    def robot_blue_near(xy) -> bool:  # matplotlib's tab:blue, the trajectory's colour
        px, py = layout.to_pixel(xy)
        patch = picture[int(py) - 3 : int(py) + 4, int(px) - 3 : int(px) + 4]
        return bool((np.abs(patch - (0.12, 0.47, 0.71)).max(axis=-1) < 0.12).any())

    assert robot_blue_near((1.0 + 0.08 * 30, 3.0 + 0.02 * 30)), "no trajectory where it is"
    assert not robot_blue_near((3.0, 7.5)), "trajectory colour where the robot never was"
