"""Scenarios, assignments, the sandboxed grader, scoring, reports and the rootroute CLI."""
