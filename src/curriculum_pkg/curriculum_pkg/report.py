"""Write what a grading run found: result.json (schema-versioned), report.md (ko/en), junit.xml,
and a top-down trajectory plot per episode.

report.md comes from a template that escapes every value (curriculum_pkg.reports): student text
(log tails, node names, reported values, file and folder names) shows as text, logs capped."""

from __future__ import annotations

import dataclasses
import json
import platform
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from curriculum_pkg.errors import GraderFault
from curriculum_pkg.reports.safe_text import bounded, first_line
from curriculum_pkg.reports.templating import render_markdown
from curriculum_pkg.timing import graph_was_slow
from curriculum_pkg.variants import bounds_lines

RESULT_SCHEMA_VERSION = "1.10"  # 1.10 episodes[].timing.held_seconds;
# 1.9 metrics.checks (the assignment's measured checks);
# 1.8 metrics.hot_s and metrics.hot_penalty (hot zones);
# 1.7 ros_distro (humble | jazzy); 1.6 episodes[].timing;
# 1.1 sandbox; 1.2 episodes[].recording; 1.3 error.kind;
# 1.4 metrics.min_worker_clearance_m and metrics.near_misses; 1.5 hidden (how hidden variants
# were seeded: secret fingerprint, team), episodes[].hidden, metrics.unseen_reports, and a
# spoofed episode scores 0 for task, safety and efficiency
_LABEL = {
    "graph": ("노드 그래프 적합성", "Graph conformance"),
    "task": ("작업 성공", "Task success"),
    "safety": ("안전", "Safety"),
    "efficiency": ("효율", "Efficiency"),
}


def result_dict(result) -> dict:
    a = result.assignment
    err = result.error
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "assignment": {"id": a.id, "title": a.title, "pass_mark": a.pass_mark, "rubric": a.rubric},
        "submission": str(result.submission),
        "score": result.points,
        "passed": result.passed,
        "error": None
        if err is None
        else {
            "kind": "grader" if isinstance(err, GraderFault) else "submission",
            "location": err.location,
            "en": err.en,
            "ko": err.ko,
        },
        "wall_s": result.wall_s,
        # the ROS 2 distribution's conventions graded under: humble (/cmd_vel Twist) or jazzy
        "ros_distro": result.ros_distro,
        "sandbox": None if result.sandbox is None else result.sandbox.as_dict(),
        "hidden": None
        if result.hidden is None
        else {
            **dataclasses.asdict(result.hidden),
            # what hidden variants may change, per scenario that had some (the declared bounds)
            "bounds": {sid: result.scenario(sid).variant_bounds() for sid in _varied(result)},
        },
        "host": {"python": platform.python_version(), "machine": platform.machine()},
        "episodes": [
            {
                "scenario": ep.scenario_id,
                "variant": ep.variant,
                "seed": ep.seed,
                "hidden": ep.hidden,
                "score": ep.points,
                "real_time_factor_achieved": ep.real_time_factor,
                "cut_short_in_wall_time": ep.wall_limit_hit,
                "target_real_time_factor": a.real_time_factor,
                "wall_s": ep.wall_s,
                # how simulated time was paced: mode, achieved factor, ticks the simulator went
                # on without the graph, the graph's CPU time and its wait for a CPU
                "timing": None if ep.pacing is None else ep.pacing.as_dict(),
                "recording": _recording(result, ep),
                "criteria": [
                    {
                        "key": c.key,
                        "weight": round(c.weight, 4),
                        "score": round(c.score, 4),
                        "points": round(c.points, 2),
                        "en": c.en,
                        "ko": c.ko,
                    }
                    for c in ep.criteria
                ],
                "metrics": None
                if ep.metrics is None
                else {
                    "tasks_done": ep.metrics.tasks_done,
                    "tasks_failed": ep.metrics.tasks_failed,
                    "unseen_reports": [
                        {"t_s": t, "station": station, "label": label}
                        for t, station, label in ep.metrics.unseen_reports
                    ],
                    "task_times_s": ep.metrics.task_times_s,
                    "parts_final_xyz": ep.metrics.parts_final,
                    "completed": ep.metrics.completed,
                    "completion_time_s": ep.metrics.completion_time_s,
                    "collisions": [{"t_s": t, "with": what} for t, what in ep.metrics.collisions],
                    "keep_out_s": round(ep.metrics.keep_out_s, 3),
                    # seconds in hot zones, and the safety score they cost (penalty_per_s x s)
                    "hot_s": round(ep.metrics.hot_s, 3),
                    "hot_penalty": round(ep.metrics.hot_penalty, 4),
                    "min_worker_clearance_m": ep.metrics.min_worker_clearance_m,
                    "near_misses": [{"t_s": t, "worker": w} for t, w in ep.metrics.near_misses],
                    "mux_interventions": ep.metrics.mux_interventions,
                    "checks": [
                        {
                            "kind": c.kind,
                            "score": c.score,
                            "weight": c.weight,
                            "en": c.en,
                            "ko": c.ko,
                            "details": c.details,
                        }
                        for c in ep.metrics.checks
                    ],
                    "sim_time_s": round(ep.metrics.sim_time_s, 3),
                    "trajectory_t_x_y": ep.metrics.trajectory,
                },
                "graph_checks": [{"ok": f.ok, "en": f.en, "ko": f.ko} for f in ep.graph_findings],
                "spoofed": [{"topic": t, "node": n} for t, n in ep.spoofers],
            }
            for ep in result.episodes
        ],
    }


def _plot(result, ep, path: Path) -> None:
    """The episode's ground-truth trajectory over the scenario's preview (curriculum_pkg.preview:
    floor, zones by kind, obstacles, stations, task order, actors' paths)."""
    from curriculum_pkg.preview import draw_preview

    scenario = result.scenario(ep.scenario_id).variant(ep.variant, ep.seed)  # as it was run
    fig = draw_preview(scenario)
    ax = fig.axes[0]
    metrics = ep.metrics
    if metrics and metrics.trajectory:
        ts = [p[0] for p in metrics.trajectory]
        xs = [p[1] for p in metrics.trajectory]
        ys = [p[2] for p in metrics.trajectory]

        def at(t: float) -> tuple[float, float]:
            k = min(range(len(ts)), key=lambda i: abs(ts[i] - t))
            return xs[k], ys[k]

        ax.plot(xs, ys, "-", color="tab:blue", lw=2.0, zorder=20, label="robot (ground truth)")
        labelled: set[str] = set()
        for t, what in metrics.collisions:
            x, y = at(t)
            ax.plot(x, y, "x", color="red", ms=11, mew=2.5, zorder=21)
            if what in labelled:  # a robot pinned against something touches it again and again
                continue
            labelled.add(what)
            ax.annotate(
                f"{what} {t:.0f}s", (x, y), xytext=(6, -12), textcoords="offset points",
                fontsize=7, color="red", zorder=21,
            )  # fmt: skip
        for t, worker in metrics.near_misses:
            x, y = at(t)
            ax.plot(x, y, "^", color="darkorange", ms=8, zorder=21)
            ax.annotate(
                f"near miss {worker}", (x, y), xytext=(6, 4), textcoords="offset points",
                fontsize=7, color="darkorange", zorder=21,
            )  # fmt: skip
        for name, (px, py, _pz) in metrics.parts_final.items():
            ax.plot(px, py, "s", color="tab:orange", ms=6, zorder=21)
            ax.annotate(
                f"{name} (end)", (px, py), xytext=(6, -10), textcoords="offset points", fontsize=7
            )
        ax.legend(loc="lower right", fontsize=7)
    fig.text(
        0.99, 0.005, f"{ep.scenario_id} variant {ep.variant}: {ep.points:.1f} points",
        ha="right", va="bottom", fontsize=9,
    )  # fmt: skip
    fig.savefig(path)


def _recording(result, ep) -> dict | None:
    rec = ep.recording
    if rec is None:
        return None
    return {
        "path": str(rec.path.relative_to(result.out_dir)),
        "messages": rec.messages,
        "truncated": rec.truncated,
        "error": rec.error or None,
    }


def _varied(result) -> list[str]:
    """Scenarios graded on hidden variants (drawn within their bounds) in this run."""
    return sorted({ep.scenario_id for ep in result.episodes if ep.hidden and ep.variant > 0})


def _plot_name(ep) -> str:
    return f"trajectory_{ep.scenario_id}_v{ep.variant}.png"


def markdown(result) -> str:
    """report.md: the verdict, the error if any, and per episode the plot, the rubric table and
    the graph checks. Student text is escaped by the template (curriculum_pkg.reports)."""
    err = result.error
    return render_markdown(
        "report.md.j2",
        assignment=result.assignment,
        submission=str(result.submission),
        points=result.points,
        verdict_ko="통과" if result.passed else "미통과",
        verdict_en="PASS" if result.passed else "NOT PASSED",
        wall_s=result.wall_s,
        sandbox=result.sandbox,
        hidden=result.hidden,
        bounds={
            sid: bounds_lines(result.scenario(sid).variant_bounds()) for sid in _varied(result)
        },
        error=err,
        # Both languages carry the same log tail; each is capped in lines and characters.
        error_text=None if err is None else f"{bounded(err.ko)}\n\n{bounded(err.en)}",
        episodes=[
            {
                "scenario_id": ep.scenario_id,
                "variant": ep.variant,
                "hidden": ep.hidden,
                "points": ep.points,
                "plot": _plot_name(ep),
                "recording": rec["path"] if (rec := _recording(result, ep)) else None,
                "real_time_factor": ep.real_time_factor,
                "pacing": ep.pacing,
                "cut_off": ep.wall_limit_hit,
                "slow_graph": None if ep.pacing is None else graph_was_slow(ep.pacing),
                "metrics": ep.metrics,
                "criteria": [
                    {
                        "label_ko": _LABEL[c.key][0],
                        "label_en": _LABEL[c.key][1],
                        "weight": c.weight,
                        "points": c.points,
                        "ko": c.ko,
                        "en": c.en,
                    }
                    for c in ep.criteria
                ],
                "graph_findings": ep.graph_findings,
                "spoofers": ep.spoofers,
            }
            for ep in result.episodes
        ],
    )


JUNIT_MESSAGE_CHARS = 1000  # a failure's message attribute: one line; the full text is its body


def junit(result) -> str:
    """junit.xml for CI dashboards. ElementTree escapes markup; `first_line` and `bounded` keep
    only printable text (XML 1.0 cannot hold control characters, and rclpy colours its log lines
    with them) and cap its length."""
    suite = ET.Element("testsuite", name=f"rootroute.{result.assignment.id}")
    if result.error is not None:
        e = result.error
        case = ET.SubElement(suite, "testcase", classname="submission", name="gradable")
        message = first_line(f"{e.location}: {e.en}", JUNIT_MESSAGE_CHARS)
        ET.SubElement(case, "failure", message=message).text = f"{bounded(e.ko)}\n\n{bounded(e.en)}"
    for ep in result.episodes:
        for c in ep.criteria:
            case = ET.SubElement(
                suite, "testcase", classname=f"{ep.scenario_id}.v{ep.variant}", name=c.key
            )
            if c.score < 1.0:
                message = first_line(f"{c.score:.2f}: {c.en}", JUNIT_MESSAGE_CHARS)
                ET.SubElement(case, "failure", message=message).text = bounded(c.ko)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    return ET.tostring(suite, encoding="unicode")


def write_reports(result) -> None:
    out = result.out_dir
    for ep in result.episodes:
        _plot(result, ep, out / _plot_name(ep))
    # A non-UTF-8 file name decodes to lone surrogates, which UTF-8 cannot encode; json.dumps only
    # puts them inside strings, where backslashreplace writes them as the JSON escape "\udcff".
    (out / "result.json").write_text(
        json.dumps(result_dict(result), ensure_ascii=False, indent=2),
        encoding="utf-8",
        errors="backslashreplace",
    )
    (out / "report.md").write_text(markdown(result), encoding="utf-8")
    (out / "junit.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n' + junit(result), encoding="utf-8"
    )
