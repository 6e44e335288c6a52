"""Hidden means hidden: the teacher's secret, the episode plan, the worker's JSON hand-off, and
evidence before credit for inspections."""

import dataclasses
import json
import shutil

import pytest

from common_pkg.worldspec import Pose2D
from curriculum_pkg import handoff
from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.episode import EpisodeJudge, EpisodeMetrics
from curriculum_pkg.errors import GraderFault, SubmissionError
from curriculum_pkg.grader import EpisodeResult, WorkerReport, plan_episodes
from curriculum_pkg.graphcheck import Finding
from curriculum_pkg.hidden import (
    SecretError,
    find_secret,
    load_hidden_scenarios,
    new_secret_file,
    read_secret_file,
)
from curriculum_pkg.sandbox import SandboxInfo
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario
from curriculum_pkg.scoring import Criterion


@pytest.fixture
def secret(tmp_path):
    return new_secret_file(tmp_path / "class-3-2.secret")


def test_a_new_secret_is_private_and_never_overwritten(tmp_path, secret):
    path = tmp_path / "class-3-2.secret"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert read_secret_file(path) == secret
    with pytest.raises(SecretError) as err:
        new_secret_file(path)
    assert "already exists" in err.value.en and "덮어쓰지" in err.value.ko
    assert secret.key.decode() not in repr(secret)


def test_a_secret_others_may_read_or_a_short_one_is_refused(tmp_path):
    shared = tmp_path / "shared.secret"
    shared.write_text("x" * 40)
    shared.chmod(0o644)
    with pytest.raises(SecretError, match="other users"):
        read_secret_file(shared)
    with pytest.raises(SecretError, match="too short"):
        find_secret(environ={"ROOTROUTE_GRADING_SECRET": "abc"})
    assert find_secret(environ={}) is None


def test_seeds_depend_on_the_secret_the_variant_and_the_team(secret, tmp_path):
    other = new_secret_file(tmp_path / "other.secret")
    seed = secret.seed("plating_stations", "banwol_plating_01", 1)
    assert seed == secret.seed("plating_stations", "banwol_plating_01", 1)  # a regrade reproduces
    assert seed != other.seed("plating_stations", "banwol_plating_01", 1)
    assert seed != secret.seed("plating_stations", "banwol_plating_01", 2)
    assert seed != secret.seed("plating_stations", "banwol_plating_01", 1, team="team07")
    assert 0 <= seed < 2**63
    assert secret.fingerprint != other.fingerprint and secret.key.decode() not in secret.fingerprint


def test_without_a_secret_only_visible_variants_are_planned_and_it_says_so():
    assignment = load_assignment("plating_stations")
    plans, hidden = plan_episodes(assignment)
    # one visible episode per scenario: the plating plant and the heat-treatment shop
    assert [(p.scenario.id, p.variant, p.hidden) for p in plans] == [
        ("banwol_plating_01", 0, False),
        ("sihwa_heat_treatment_01", 0, False),
    ]
    for plan, run in zip(plans, assignment.runs, strict=True):
        assert plan.seed == run.seed  # the visible world's public seed
    assert not hidden.graded and "only the visible" in hidden.en and "공개 변형만" in hidden.ko


def test_with_a_secret_hidden_variants_take_its_seeds_never_the_public_one(secret):
    assignment = load_assignment("logistics_crossing")
    plans, hidden = plan_episodes(assignment, secret)
    # the visible variant of each scenario (the warehouse, the welding cell), then two hidden
    # variants of each
    scenarios = ("sihwa_logistics_01", "banwol_welding_01")
    assert [(p.scenario.id, p.variant, p.hidden) for p in plans] == [
        *((scenario_id, 0, False) for scenario_id in scenarios),
        *((scenario_id, variant, True) for scenario_id in scenarios for variant in (1, 2)),
    ]
    public = {run.seed for run in assignment.runs}
    assert all(p.seed not in public for p in plans if p.hidden)
    assert hidden.graded and hidden.secret_fingerprint == secret.fingerprint
    team_plans, team_info = plan_episodes(assignment, secret, team="team07")
    assert [p.seed for p in team_plans if p.hidden] != [p.seed for p in plans if p.hidden]
    assert team_info.team == "team07" and "team07" in team_info.en


def test_hidden_scenarios_from_a_teachers_folder_are_validated(tmp_path, secret):
    assignment = load_assignment("plating_stations")
    folder = tmp_path / "hidden"
    folder.mkdir()
    text = (SCENARIO_DIR / "banwol_plating_01.yaml").read_text()
    (folder / "night_shift.yaml").write_text(
        text.replace("id: banwol_plating_01", "id: night_shift")
    )
    (scenario,) = load_hidden_scenarios(folder, assignment)
    plans, hidden = plan_episodes(assignment, secret, hidden_scenarios=(scenario,))
    assert (plans[-1].scenario.id, plans[-1].hidden) == ("night_shift", True)
    assert hidden.hidden_scenarios == ["night_shift"]
    # an inspection scenario does not fit a navigation assignment
    shutil.copytree(SCENARIO_DIR / "items", folder / "items")  # its pictures come along
    shutil.copy(SCENARIO_DIR / "ansan_pcb_inspection_01.yaml", folder / "pcb.yaml")
    with pytest.raises(Exception, match="inspect") as err:
        load_hidden_scenarios(folder, assignment)
    assert err.value.location == "pcb.yaml"


def test_the_worker_result_round_trips_as_json_not_pickle():
    metrics = EpisodeMetrics(tasks_total=2, tasks_done=["navigate:a"], trajectory=[(0.0, 1.0, 2.0)])
    metrics.collisions.append((1.5, "wall_n"))
    episode = EpisodeResult(
        "banwol_plating_01",
        1,
        2**62 + 5,
        hidden=True,
        criteria=[Criterion("task", 0.5, 0.5, "1/2 <b>", "1/2")],
        metrics=metrics,
        graph_findings=[Finding(True, "ok", "정상")],
        spoofers=[("/odom", "/sim_bridge")],
    )
    info = SandboxInfo(network=True, missing=[("x", "엑스")])
    for error in (None, SubmissionError("a.yaml:1:1", "bad", "나쁨"), GraderFault("g", "e", "k")):
        text = handoff.encode(WorkerReport([episode], error, info))
        json.loads(text)  # plain JSON: nothing in it runs when read
        back = handoff.decode(WorkerReport, text)
        assert back.episodes == [episode] and back.sandbox == info
        assert type(back.error) is type(error)
        if error is not None:
            assert (back.error.location, back.error.en, back.error.ko) == (
                error.location,
                error.en,
                error.ko,
            )
    with pytest.raises(ValueError):
        handoff.decode(WorkerReport, '{"episodes": [{"scenario_id": 3}]}')


def _pcb_judge():
    scenario = load_scenario("ansan_pcb_inspection_01")
    return scenario, EpisodeJudge(scenario, scenario.world)


def test_an_inspection_reported_before_the_camera_saw_the_item_does_not_count():
    scenario, judge = _pcb_judge()
    task = scenario.tasks[0]
    start = scenario.world.robot_start
    oracle = {task.station_id: [(0.01, task.expected_label)]}  # the right label, seen nothing
    for step in range(1, 50):
        judge.update(step * 0.01, start, set(), {}, oracle)
    assert judge.metrics.tasks_done == []
    assert judge.metrics.unseen_reports == [(0.01, task.station_id, task.expected_label)]
    # the camera shows the item at 0.5 s; a report after that counts
    judge.update(0.5, start, set(), {}, oracle, seen={task.station_id})
    assert judge.metrics.tasks_done == []
    late = {task.station_id: [*oracle[task.station_id], (0.6, task.expected_label)]}
    judge.update(0.6, start, set(), {}, late)
    assert judge.metrics.tasks_done == [task.name]
    assert len(judge.metrics.unseen_reports) == 1  # noted once, not once per step


def test_the_first_report_after_evidence_decides_even_if_wrong():
    scenario, judge = _pcb_judge()
    task = scenario.tasks[0]
    start = scenario.world.robot_start
    judge.update(0.1, start, set(), {}, {}, seen={task.station_id})
    said = {task.station_id: [(0.2, "not-" + task.expected_label), (0.3, task.expected_label)]}
    judge.update(0.3, start, set(), {}, said)
    assert judge.metrics.tasks_done == [] and judge.metrics.tasks_failed


def test_the_simulator_knows_when_the_camera_shows_an_item():
    from common_pkg.profile import load_profile
    from sim_pkg.world import SimWorld

    scenario = load_scenario("ansan_pcb_inspection_01")
    world = SimWorld(scenario.world, load_profile())
    station = scenario.tasks[0].station_id
    world.step()
    assert station in world.displays_in_view(1.5)  # it starts facing the board
    assert world.displays_in_view(0.05) == set()  # ... not within 5 cm
    start = scenario.world.robot_start
    turned = dataclasses.replace(
        scenario.world, robot_start=Pose2D(start.x, start.y, start.yaw + 3.1)
    )
    away = SimWorld(turned, load_profile())
    away.step()
    assert away.displays_in_view(1.5) == set()
    world.close()
    away.close()
