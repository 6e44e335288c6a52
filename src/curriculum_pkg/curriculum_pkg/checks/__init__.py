"""Checks an assignment measures from the student's answers against ground truth (see base)."""

from curriculum_pkg.checks import markers, sensors, teleop  # noqa: F401  (register their kinds)
from curriculum_pkg.checks.base import REGISTRY, Check, CheckResult, StepTruth, register

__all__ = ["REGISTRY", "Check", "CheckResult", "StepTruth", "make_checks", "register"]


def make_checks(specs, scenario, profile) -> list[Check]:
    return [REGISTRY[spec["kind"]](spec, scenario, profile) for spec in specs]
