"""Scoring arithmetic (ROS-free): criterion scores in [0, 1], weighted into 0-100 points.

- graph:      share of required interface checks (nodes, topics, types, rates) that pass
- task:       share of the scenario's tasks (navigate, pick, place) done in order
- safety:     1 - penalties (collisions, keep-out seconds, hot-zone seconds times each hot
              zone's penalty_per_s, near misses with workers, safety-mux interventions), times
              task progress: safety is earned while doing the task, so a robot that never moves
              earns none
- efficiency: nominal time / completion time, capped at 1; 0 if the task was not completed

Spoofing (publishing on a topic the simulator or a platform node owns) fails the episode: task,
safety and efficiency are 0, whatever the robot did, and the feedback names the publisher.
"""

from __future__ import annotations

from dataclasses import dataclass

from curriculum_pkg.episode import NEAR_MISS_DISTANCE_M, EpisodeMetrics, describe_contact
from curriculum_pkg.graphcheck import Finding
from curriculum_pkg.scenario import Scenario


@dataclass(frozen=True)
class Criterion:
    key: str
    weight: float  # normalised, the rubric's weights sum to 1
    score: float  # 0..1
    en: str
    ko: str

    @property
    def points(self) -> float:
        return 100.0 * self.weight * self.score


def graph_score(findings: list[Finding]) -> float:
    return sum(f.ok for f in findings) / len(findings) if findings else 1.0


def safety_score(
    scenario: Scenario, metrics: EpisodeMetrics, intervention_penalty: float = 0.0
) -> float:
    penalty = (
        scenario.collision_penalty * len(metrics.collisions)
        + scenario.keep_out_penalty_per_s * metrics.keep_out_s
        + metrics.hot_penalty  # penalty_per_s x seconds, summed over the hot zones entered
        + scenario.near_miss_penalty * len(metrics.near_misses)
        + intervention_penalty * metrics.mux_interventions
    )
    return max(0.0, 1.0 - penalty) * metrics.progress


def _people_feedback(scenario: Scenario, metrics: EpisodeMetrics) -> tuple[str, str]:
    """What the robot did near workers and forklifts: collisions with them, closest approach to
    a worker and near misses. Empty when the scenario has none."""
    world = scenario.world
    if not world.actors:
        return "", ""
    en, ko = [], []
    hits: dict[str, list[str]] = {}  # actor contact name -> times, in order of the first hit
    for t, thing in metrics.collisions:
        if thing.startswith("actor:"):
            hits.setdefault(thing, []).append(f"{t:.1f}")
    for thing, times in hits.items():
        who_en, who_ko = describe_contact(thing, world)
        en.append(f"collided with {who_en} at {', '.join(times)} s")
        ko.append(f"{who_ko}와(과) 충돌 ({', '.join(times)}초)")
    if metrics.min_worker_clearance_m is not None:
        en.append(
            f"closest to a worker: {metrics.min_worker_clearance_m:.2f} m from their edge, "
            f"{len(metrics.near_misses)} near miss(es) (driving within "
            f"{NEAR_MISS_DISTANCE_M:g} m of a worker)"
        )
        ko.append(
            f"작업자와의 최소 거리 {metrics.min_worker_clearance_m:.2f} m, "
            f"아차사고 {len(metrics.near_misses)}회 (작업자 {NEAR_MISS_DISTANCE_M:g} m 이내에서 주행)"
        )
    return "".join(f"; {item}" for item in en), "".join(f"; {item}" for item in ko)


def efficiency_score(scenario: Scenario, metrics: EpisodeMetrics) -> float:
    if not metrics.completed or metrics.completion_time_s <= 0:
        return 0.0
    return min(1.0, scenario.nominal_time_s / metrics.completion_time_s)


def score_episode(
    rubric: dict[str, float],
    scenario: Scenario,
    metrics: EpisodeMetrics,
    graph_findings: list[Finding],
    spoofers: list[tuple[str, str]] = (),
    intervention_penalty: float = 0.0,
) -> list[Criterion]:
    """`spoofers`: (owned topic, publisher's node name) found during the episode."""
    g = graph_score(graph_findings)
    failed = [f for f in graph_findings if not f.ok]
    t = metrics.progress
    s = safety_score(scenario, metrics, intervention_penalty)
    e = efficiency_score(scenario, metrics)
    spoof_en = spoof_ko = ""
    if spoofers:
        t = s = e = 0.0
        shown = "; ".join(f"{node} on {topic}" for topic, node in spoofers[:5])
        shown_ko = "; ".join(f"{topic} 토픽에 {node}" for topic, node in spoofers[:5])
        spoof_en = (
            f"EPISODE FAILED: a node other than the simulator or the platform published on a "
            f"topic they own ({shown}), so nothing in this episode can be trusted; "
        )
        spoof_ko = (
            f"에피소드 실패: 시뮬레이터나 플랫폼 노드만 발행할 수 있는 토픽에 다른 노드가 "
            f"발행했습니다 ({shown_ko}). 이 에피소드의 결과는 믿을 수 없으므로 0점입니다; "
        )
    task_en, task_ko = _task_feedback(metrics)
    when = f"{metrics.completion_time_s:.1f} s" if metrics.completed else "-"
    people_en, people_ko = _people_feedback(scenario, metrics)
    hot_en = hot_ko = ""
    if any(z.kind == "hot" for z in scenario.world.zones):
        hot_en = f"{metrics.hot_s:.1f} s in hot zones (-{metrics.hot_penalty:.2f}), "
        hot_ko = f"고온 구역 {metrics.hot_s:.1f}초 (-{metrics.hot_penalty:.2f}), "
    return [
        Criterion(
            "graph",
            rubric["graph"],
            g,
            f"{len(graph_findings) - len(failed)}/{len(graph_findings)} interface checks pass"
            + (f"; first problem: {failed[0].en}" if failed else ""),
            f"인터페이스 점검 {len(graph_findings) - len(failed)}/{len(graph_findings)}개 통과"
            + (f"; 첫 문제: {failed[0].ko}" if failed else ""),
        ),
        Criterion("task", rubric["task"], t, spoof_en + task_en, spoof_ko + task_ko),
        Criterion(
            "safety",
            rubric["safety"],
            s,
            ("EPISODE FAILED (spoofing); " if spoofers else "")
            + f"{len(metrics.collisions)} collision(s), {metrics.keep_out_s:.1f} s in keep-out zones, "
            + hot_en
            + f"{metrics.mux_interventions} safety-mux intervention(s); "
            f"scaled by task progress {t:.0%}" + people_en,
            ("에피소드 실패 (토픽 위조); " if spoofers else "")
            + f"충돌 {len(metrics.collisions)}회, 출입 금지 구역 {metrics.keep_out_s:.1f}초, "
            + hot_ko
            + f"안전 먹스 개입 {metrics.mux_interventions}회; "
            f"작업 진행률 {t:.0%}를 곱함" + people_ko,
        ),
        Criterion(
            "efficiency",
            rubric["efficiency"],
            e,
            f"completed in {when} (nominal {scenario.nominal_time_s:g} s)",
            f"완료 시간 {when} (기준 {scenario.nominal_time_s:g}초)",
        ),
    ]


def _task_feedback(metrics: EpisodeMetrics) -> tuple[str, str]:
    """What the task score is made of: the assignment's checks, or the scenario's steps."""
    if metrics.checks:
        return (
            "; ".join(f"{c.en} ({c.score:.0%})" for c in metrics.checks),
            "; ".join(f"{c.ko} ({c.score:.0%})" for c in metrics.checks),
        )
    n, total = len(metrics.tasks_done), metrics.tasks_total
    en = (
        f"{n}/{total} tasks done in order"
        + (f" ({', '.join(metrics.tasks_done)})" if n else "")
        + (f"; failed: {'; '.join(metrics.tasks_failed)}" if metrics.tasks_failed else "")
        + (
            f"; {len(metrics.unseen_reports)} inspection report(s) came before the camera "
            "had seen the item and did not count"
            if metrics.unseen_reports
            else ""
        )
    )
    ko = (
        f"작업 {total}개 중 {n}개를 순서대로 완료"
        + (f" ({', '.join(metrics.tasks_done)})" if n else "")
        + (f"; 실패: {'; '.join(metrics.tasks_failed)}" if metrics.tasks_failed else "")
        + (
            f"; 카메라가 검사 대상을 보기 전에 보낸 검사 보고 {len(metrics.unseen_reports)}건은 "
            "인정되지 않았습니다"
            if metrics.unseen_reports
            else ""
        )
    )
    return en, ko


def total_points(criteria: list[Criterion]) -> float:
    return round(sum(c.points for c in criteria), 2)
