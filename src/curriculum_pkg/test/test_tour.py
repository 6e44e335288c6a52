"""The platform's tour, forecast without ROS, and the hidden variants it vets (station_markers).

The tour is a recorded gamepad, open loop: in a hidden variant (a start turned by a few degrees,
stations moved) it ends elsewhere, and measured with one teacher's secret it stalled 2.07 m from
the furnace panel and never brought a station into clear view: the reference scored 20 (graph
only) there, and so would every student. The grader now drives the tour in the simulator alone
before grading and draws such a variant again (grader.plan_episodes)."""

from __future__ import annotations

import math
import shutil

import pytest

from common_pkg.profile import load_profile
from curriculum_pkg.assignment import ASSIGNMENT_DIR, load_assignment
from curriculum_pkg.assignment_check import check_assignment
from curriculum_pkg.checks import variant_problem, vets_variants
from curriculum_pkg.grader import plan_episodes
from curriculum_pkg.hidden import GradingSecret
from curriculum_pkg.tour import (
    INPUT_PLAYER,
    JOY_TELEOP,
    SAFETY_MUX,
    drive_tour,
    tour_parameters,
    tour_script,
)

# The variant seen above: seed of variant 1 of sihwa_heat_treatment_01 for that secret.
STALLED_SEED = 8235623986068619267
# A test secret whose first draw of variant 1 lets the tour miss the quench tank's marker.
SECRET = GradingSecret(b"tour-test-secret-0000", "test")


@pytest.fixture(scope="module")
def assignment():
    return load_assignment("station_markers")


@pytest.fixture(scope="module")
def profile():
    return load_profile()


def test_the_tour_follows_the_script_in_sim_time(assignment, profile):
    scenario = assignment.runs[0].scenario
    frames = list(drive_tour(scenario, profile, "1.0 0 0; 4.0 1.0 0 deadman; 1.0 0 0"))
    start, end = frames[0].pose, frames[-1].pose
    assert frames[-1].t == pytest.approx(6.0 + 2.0, abs=0.1)  # the script, then 2 s standing
    assert len(frames) == pytest.approx(8.0 * profile.camera_rate_hz, abs=2)
    # 4 s at 0.13 m/s (stick 1.0), less the safety mux's 0.5 m/s^2 ramps: about half a metre
    assert 0.4 < math.dist((start.x, start.y), (end.x, end.y)) < 0.55


@pytest.mark.parametrize(
    "parameters",
    [
        {SAFETY_MUX: {"max_linear_mps": 0.05}},  # a slower mux
        {JOY_TELEOP: {"scale_linear_mps": 0.05}},  # a gentler stick
        {INPUT_PLAYER: {"rate_hz": 1.0}, JOY_TELEOP: {"publish_rate_hz": 1.0}},  # slow repeats
    ],
)
def test_the_tour_runs_the_nodes_with_the_assignments_parameters(assignment, profile, parameters):
    scenario = assignment.runs[0].scenario
    script = "1.0 0 0; 4.0 1.0 0 deadman; 1.0 0 0"
    default = list(drive_tour(scenario, profile, script))
    given = list(drive_tour(scenario, profile, script, parameters))

    def travelled(frames):
        return math.dist(
            (frames[0].pose.x, frames[0].pose.y), (frames[-1].pose.x, frames[-1].pose.y)
        )

    assert travelled(given) < travelled(default) - 0.1, (travelled(given), travelled(default))


def test_the_tour_takes_its_parameters_from_the_assignment(assignment):
    parameters = tour_parameters(assignment)
    assert set(parameters) == {INPUT_PLAYER, JOY_TELEOP, SAFETY_MUX}
    assert parameters[INPUT_PLAYER]["script"] == tour_script(assignment)


def test_the_visible_tour_shows_every_station(assignment, profile):
    assert vets_variants(assignment)
    assert variant_problem(assignment, assignment.runs[0].scenario, profile) is None


def test_a_variant_whose_tour_stalls_far_from_the_stations_is_refused(assignment, profile):
    scenario = assignment.runs[0].scenario.variant(1, STALLED_SEED)
    en, ko = variant_problem(assignment, scenario, profile)
    for station in ("furnace_panel", "hardness_check", "quench_check"):
        assert station in en and station in ko


def test_an_unfair_hidden_variant_is_drawn_again_the_same_way_each_time(assignment, profile):
    run = assignment.runs[0]
    first = SECRET.seed(assignment.id, run.scenario.id, 1)
    assert variant_problem(assignment, run.scenario.variant(1, first), profile) is not None
    plans, hidden = plan_episodes(assignment, SECRET, profile=profile)
    (plan,) = [p for p in plans if p.hidden]
    assert plan.seed != first  # redrawn; result.json records this seed, so reports redraw alike
    assert variant_problem(assignment, run.scenario.variant(1, plan.seed), profile) is None
    assert "WARNING" not in hidden.en
    again, _ = plan_episodes(assignment, SECRET, profile=profile)
    assert [p.seed for p in again] == [p.seed for p in plans]


def test_assignments_whose_checks_vet_no_variant_keep_their_seeds(profile):
    assignment = load_assignment("sensor_readings")  # a tour, but no check that needs it vetted
    assert tour_script(assignment) is not None and not vets_variants(assignment)
    plans, _ = plan_episodes(assignment, SECRET, profile=profile)
    for plan in (p for p in plans if p.hidden):
        assert plan.seed == SECRET.seed(assignment.id, plan.scenario.id, plan.variant)


def test_validate_refuses_a_tour_that_never_shows_a_station(tmp_path):
    """A teacher who shortens the recorded tour hears it from `rootroute assignment validate`."""
    folder = tmp_path / "station_markers"
    shutil.copytree(ASSIGNMENT_DIR / "station_markers", folder)
    path = folder / "assignment.yaml"
    text = path.read_text()
    start = text.index("script: >-")
    end = text.index("publishes:", start)
    path.write_text(text[:start] + 'script: "1.0 0 0; 3.0 1.0 0 deadman"\n      ' + text[end:])
    errors = check_assignment(path)
    assert errors, "a tour that stops 0.4 m after the start shows nothing"
    (error,) = errors
    assert "furnace_panel" in error.en and "furnace_panel" in error.ko
    assert error.location.startswith("assignment.yaml:")


MUX_ENTRY = (
    "provided_by: teleop_pkg/safety_mux  # the platform's node: launch it, do not replace it\n"
)


def with_mux_parameters(tmp_path, parameters: str):
    """A copy of station_markers whose safety_mux entry sets `parameters` (YAML flow mapping)."""
    folder = tmp_path / "station_markers"
    shutil.copytree(ASSIGNMENT_DIR / "station_markers", folder)
    path = folder / "assignment.yaml"
    text = path.read_text()
    assert MUX_ENTRY in text
    path.write_text(text.replace(MUX_ENTRY, MUX_ENTRY + f"      parameters: {parameters}\n"))
    return path


def test_validate_forecasts_the_tour_with_the_mux_the_assignment_sets(tmp_path):
    """The same tour behind a safety mux slowed to 0.03 m/s shows nothing: the forecast runs the
    mux as the assignment configures it, not with its defaults."""
    errors = check_assignment(with_mux_parameters(tmp_path, "{max_linear_mps: 0.03}"))
    assert errors and "furnace_panel" in errors[0].en


@pytest.mark.parametrize("value", ["fast", "[1, 2]"])  # a string, a list: the schema allows both
def test_validate_says_where_a_tour_node_parameter_is_bad(tmp_path, value):
    path = with_mux_parameters(tmp_path, f"{{max_linear_mps: {value}}}")
    (error,) = check_assignment(path)  # one located, bilingual error, no traceback
    assert error.location.startswith("assignment.yaml:")
    assert "tour" in error.en and "파라미터" in error.ko


def test_validate_refuses_a_gamepad_rate_the_input_player_would_refuse(tmp_path):
    """input_player takes 1-100 Hz: at 0.5 Hz it would not start in any student's grading, and
    the forecast must not pretend otherwise."""
    folder = tmp_path / "station_markers"
    shutil.copytree(ASSIGNMENT_DIR / "station_markers", folder)
    path = folder / "assignment.yaml"
    player = "      parameters:\n        script: >-\n"
    text = path.read_text()
    assert text.count(player) == 1
    path.write_text(text.replace(player, "      parameters:\n        rate_hz: 0.5\n" + player[18:]))
    (error,) = check_assignment(path)
    assert error.location.startswith("assignment.yaml:")
    assert "rate_hz = 0.5" in error.en and "rate_hz = 0.5" in error.ko and "파라미터" in error.ko
