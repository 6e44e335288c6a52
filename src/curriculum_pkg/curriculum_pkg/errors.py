"""Input errors of the curriculum domain. Each is located and bilingual (see common_pkg.errors)."""

from common_pkg.errors import LocatedError


class ScenarioError(LocatedError):
    """A scenario file is malformed or inconsistent."""


class AssignmentError(LocatedError):
    """An assignment file is malformed or points at something missing."""


class SubmissionError(LocatedError):
    """A student submission cannot be graded: bad layout, launch file, install, or a node failed."""


class GraderFault(SubmissionError):
    """The grading run itself failed (its worker died): no verdict on the student's code, and a
    batch grades the submission again. result.json marks it with error.kind = "grader"."""


__all__ = ["AssignmentError", "GraderFault", "LocatedError", "ScenarioError", "SubmissionError"]
