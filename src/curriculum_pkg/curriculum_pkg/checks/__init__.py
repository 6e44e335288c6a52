"""Checks an assignment measures from the student's answers against ground truth (see base)."""

from curriculum_pkg.checks import markers, sensors, teleop  # noqa: F401  (register their kinds)
from curriculum_pkg.checks.base import REGISTRY, Check, CheckResult, StepTruth, register

__all__ = [
    "REGISTRY",
    "Check",
    "CheckResult",
    "StepTruth",
    "make_checks",
    "register",
    "variant_problem",
    "vets_variants",
]


def make_checks(specs, scenario, profile) -> list[Check]:
    return [REGISTRY[spec["kind"]](spec, scenario, profile) for spec in specs]


def vets_variants(assignment) -> bool:
    """Whether a check of the assignment can tell a variant it could not judge fairly."""
    return any(REGISTRY[spec["kind"]].vets_variants for spec in assignment.checks)


def variant_problem(assignment, scenario, profile) -> tuple[str, str] | None:
    """The first check's reason why it could not judge `scenario` (a drawn variant) fairly, as
    (en, ko), or None (see Check.variant_problem)."""
    for spec in assignment.checks:
        kind = REGISTRY[spec["kind"]]
        if kind.vets_variants:
            problem = kind.variant_problem(spec, scenario, profile, assignment)
            if problem is not None:
                return problem
    return None
