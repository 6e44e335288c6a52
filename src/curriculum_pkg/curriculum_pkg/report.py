"""Write what a grading run found: result.json (schema-versioned), report.md (ko/en), junit.xml,
and a top-down trajectory plot per episode."""

from __future__ import annotations

import json
import platform
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from curriculum_pkg.errors import GraderFault

RESULT_SCHEMA_VERSION = "1.4"  # 1.1 sandbox; 1.2 episodes[].recording; 1.3 error.kind;
# 1.4 metrics.min_worker_clearance_m and metrics.near_misses
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
        "sandbox": None if result.sandbox is None else result.sandbox.as_dict(),
        "host": {"python": platform.python_version(), "machine": platform.machine()},
        "episodes": [
            {
                "scenario": ep.scenario_id,
                "variant": ep.variant,
                "seed": ep.seed,
                "score": ep.points,
                "real_time_factor_achieved": ep.real_time_factor,
                "cut_short_in_wall_time": ep.wall_limit_hit,
                "target_real_time_factor": a.real_time_factor,
                "wall_s": ep.wall_s,
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
                    "task_times_s": ep.metrics.task_times_s,
                    "parts_final_xyz": ep.metrics.parts_final,
                    "completed": ep.metrics.completed,
                    "completion_time_s": ep.metrics.completion_time_s,
                    "collisions": [{"t_s": t, "with": what} for t, what in ep.metrics.collisions],
                    "keep_out_s": round(ep.metrics.keep_out_s, 3),
                    "min_worker_clearance_m": ep.metrics.min_worker_clearance_m,
                    "near_misses": [{"t_s": t, "worker": w} for t, w in ep.metrics.near_misses],
                    "mux_interventions": ep.metrics.mux_interventions,
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

    run = next(r for r in result.assignment.runs if r.scenario.id == ep.scenario_id)
    scenario = run.scenario.variant(ep.variant, ep.seed)  # its start pose, its actors' offsets
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


def markdown(result) -> str:
    a = result.assignment
    verdict_ko = "통과" if result.passed else "미통과"
    verdict_en = "PASS" if result.passed else "NOT PASSED"
    lines = [
        f"# {a.title['ko']} / {a.title['en']}",
        "",
        f"- 제출물 / Submission: `{result.submission}`",
        f"- 점수 / Score: **{result.points:.1f} / 100** — {verdict_ko} / {verdict_en} (기준 / pass mark {a.pass_mark:g})",
        f"- 채점 시간 / Grading wall time: {result.wall_s:.1f} s",
    ]
    if result.sandbox is not None:
        box = result.sandbox
        if box.complete:
            lines.append(
                "- 격리 / Isolation: 전용 루프백 네트워크, bubblewrap, cgroup 제한 / "
                "private loopback network, bubblewrap, cgroup limits"
            )
        for en, ko in box.missing:
            lines.append(f"- ⚠️ 격리 부족 / Isolation gap: {ko} / {en}")
    lines.append("")
    if result.error is not None:
        e = result.error
        lines += [
            "## 오류 / Error",
            "",
            f"위치 / Location: `{e.location}`",
            "",
            "```text",
            e.ko,
            "",
            e.en,
            "```",
            "",
            "제출물에 문제가 있어 0점 처리되었습니다. 위 위치를 고친 뒤 다시 제출하세요.",
            "The submission could not be graded and scores 0. Fix the place above and submit again.",
            "",
        ]
    for ep in result.episodes:
        lines += [
            f"## {ep.scenario_id} — variant {ep.variant}: {ep.points:.1f} points",
            "",
            f"![trajectory](trajectory_{ep.scenario_id}_v{ep.variant}.png)",
            "",
            *(
                [
                    f"기록 / Recording: [`{rec['path']}`]({rec['path']}) — "
                    f"`ros2 bag play --clock {rec['path']}` 또는 / or Foxglove",
                    "",
                ]
                if (rec := _recording(result, ep))
                else []
            ),
            f"실시간 배속 / Real-time factor achieved: {ep.real_time_factor:.1f}x "
            f"(목표 / target {a.real_time_factor:g}x); 시뮬레이션 / sim {ep.metrics.sim_time_s:.1f} s",
            "",
            *(
                [
                    f"작업자와 가장 가까웠던 거리 / Closest to a worker: "
                    f"{ep.metrics.min_worker_clearance_m:.2f} m; 아차사고 / near misses: "
                    f"{len(ep.metrics.near_misses)}",
                    "",
                ]
                if ep.metrics.min_worker_clearance_m is not None
                else []
            ),
            "| 항목 / Criterion | 가중치 / Weight | 점수 / Score | 피드백 | Feedback |",
            "|---|---:|---:|---|---|",
        ]
        for c in ep.criteria:
            ko, en = _LABEL[c.key]
            lines.append(f"| {ko} / {en} | {c.weight:.0%} | {c.points:.1f} | {c.ko} | {c.en} |")
        lines += ["", "<details><summary>그래프 점검 / Graph checks</summary>", ""]
        lines += [f"- {'✅' if f.ok else '❌'} {f.ko} / {f.en}" for f in ep.graph_findings]
        lines += ["", "</details>", ""]
        if ep.spoofers:
            lines += [
                "시뮬레이터·플랫폼 토픽 위조 / Spoofed simulator or platform topics: "
                + ", ".join(f"`{t}` by `{n}`" for t, n in ep.spoofers),
                "",
            ]
    return "\n".join(lines) + "\n"


def junit(result) -> str:
    suite = ET.Element("testsuite", name=f"rootroute.{result.assignment.id}")
    if result.error is not None:
        case = ET.SubElement(suite, "testcase", classname="submission", name="gradable")
        ET.SubElement(
            case, "failure", message=f"{result.error.location}: {result.error.en}"
        ).text = result.error.ko
    for ep in result.episodes:
        for c in ep.criteria:
            case = ET.SubElement(
                suite, "testcase", classname=f"{ep.scenario_id}.v{ep.variant}", name=c.key
            )
            if c.score < 1.0:
                ET.SubElement(case, "failure", message=f"{c.score:.2f}: {c.en}").text = c.ko
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    return ET.tostring(suite, encoding="unicode")


def write_reports(result) -> None:
    out = result.out_dir
    for ep in result.episodes:
        _plot(result, ep, out / f"trajectory_{ep.scenario_id}_v{ep.variant}.png")
    (out / "result.json").write_text(json.dumps(result_dict(result), ensure_ascii=False, indent=2))
    (out / "report.md").write_text(markdown(result))
    (out / "junit.xml").write_text(junit(result))
