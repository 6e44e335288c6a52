"""Checks: task criteria an assignment measures from the student's own answers, against ground
truth, instead of (or besides) the scenario's task steps (ROS-free).

An assignment lists them under `checks:` (assignment.yaml), for example

    checks:
      - {kind: nearest_obstacle, topic: /sensors/nearest_obstacle, weight: 1}
      - {kind: distance_travelled, topic: /sensors/distance_travelled, weight: 1}

and then its task score is the weighted mean of the checks' scores (the scenario's steps still
run, and still end the episode when they are done, but earn nothing).

A check never sees a ROS object it did not ask for: the grader subscribes to `topics()` for it
(best effort, depth 50, bounded), and hands each message to `on_message` in the grader's own
thread, with the sim time it was sent (its DDS source timestamp against the grader's steps: a
grader thread the machine's load delays does not make an answer late). Every control step (10 ms of sim time) it gets `on_step` with the
truth the grader has at that moment: the true pose, the simulator (read it, never change it), and
the stamps of the scan or camera frame the simulator published in this step, if any. Evidence
rules are the check's: an answer counts only if it refers to data the simulator really
published (a stamp it sent) and came after it.

Memory is bounded by the check: keep at most a few thousand numbers whatever a student floods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from common_pkg.worldspec import Pose2D

if TYPE_CHECKING:  # only for types: the grader passes the real objects
    from common_pkg.profile import RobotProfile
    from curriculum_pkg.scenario import Scenario
    from sim_pkg.world import SimWorld


@dataclass(frozen=True)
class StepTruth:
    """What the grader knows at one control step (never published anywhere)."""

    t: float  # sim time, s
    pose: Pose2D  # the robot's base_footprint in the world frame
    world: SimWorld  # the simulator: read only
    scan_stamp: float | None = None  # stamp (sim s) of the /scan published in this step
    frame_stamp: float | None = None  # stamp (sim s) of the camera frame published in this step


@dataclass
class CheckResult:
    kind: str
    score: float  # 0..1
    en: str  # one line of feedback a student can act on
    ko: str
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able numbers for result.json
    weight: float = 1.0  # set by the grader from the assignment's entry


class Check(ABC):
    """One measured criterion. Subclasses set `kind` and register with @register."""

    kind: ClassVar[str]
    # True for a check that can tell, before an episode, whether a drawn variant lets it judge
    # fairly (variant_problem): the grader then draws hidden variants until one does.
    vets_variants: ClassVar[bool] = False

    @classmethod
    def variant_problem(
        cls, spec: dict, scenario: Scenario, profile: RobotProfile, assignment
    ) -> tuple[str, str] | None:
        """Why this check could not judge `scenario` (a drawn variant) fairly, as (en, ko), or
        None. Only asked when `vets_variants`."""
        return None

    def __init__(self, spec: dict, scenario: Scenario, profile: RobotProfile):
        """`spec`: the assignment's entry (kind, topic, weight and the check's own keys)."""
        self.spec = spec
        self.scenario = scenario
        self.profile = profile
        self.weight = float(spec.get("weight", 1.0))

    @abstractmethod
    def topics(self) -> list[tuple[str, str]]:
        """(topic, 'pkg/msg/Type') the grader subscribes to for this check."""

    @abstractmethod
    def on_message(self, topic: str, msg: Any, t_recv: float) -> None:
        """A message from one of `topics()`; `t_recv` the sim time it was sent (the step the
        simulator was at when the sender's DDS stamped it; never after it reached the grader)."""

    @abstractmethod
    def on_step(self, truth: StepTruth) -> None:
        """Called every control step, after the simulator stepped."""

    @abstractmethod
    def result(self) -> CheckResult:
        """The score so far (called at the end, and for progress lines while it runs)."""


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    REGISTRY[cls.kind] = cls
    return cls
