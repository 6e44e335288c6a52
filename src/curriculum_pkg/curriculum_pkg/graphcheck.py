"""Compare a live ROS graph with the assignment's required interfaces (ROS-free)."""

from __future__ import annotations

from dataclasses import dataclass

from curriculum_pkg.assignment import NodeRequirement


@dataclass(frozen=True)
class ObservedNode:
    fqn: str
    publishes: dict[str, tuple[str, ...]]  # topic -> types
    subscribes: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Finding:
    ok: bool
    en: str
    ko: str


def check_interfaces(
    required: tuple[NodeRequirement, ...], observed: dict[str, ObservedNode]
) -> list[Finding]:
    """One finding per required node and per required publication/subscription."""
    findings: list[Finding] = []
    for req in required:
        node = observed.get(req.name)
        if node is None:
            findings.append(
                Finding(
                    False,
                    f"node {req.name} is not running (running: {sorted(observed) or 'none'})",
                    f"노드 {req.name}이(가) 실행되고 있지 않습니다 (실행 중: {sorted(observed) or '없음'})",
                )
            )
            findings += [
                Finding(
                    False,
                    f"{req.name} cannot publish {t.topic}",
                    f"{req.name}이(가) {t.topic}을(를) 발행할 수 없습니다",
                )
                for t in req.publishes
            ]
            findings += [
                Finding(
                    False,
                    f"{req.name} cannot subscribe to {t.topic}",
                    f"{req.name}이(가) {t.topic}을(를) 구독할 수 없습니다",
                )
                for t in req.subscribes
            ]
            continue
        findings.append(Finding(True, f"node {req.name} is running", f"노드 {req.name} 실행 중"))
        for verb_en, verb_ko, wanted, seen in (
            ("publishes", "발행", req.publishes, node.publishes),
            ("subscribes to", "구독", req.subscribes, node.subscribes),
        ):
            for t in wanted:
                types = seen.get(t.topic, ())
                if t.type in types:
                    findings.append(
                        Finding(
                            True,
                            f"{req.name} {verb_en} {t.topic} [{t.type}]",
                            f"{req.name}이(가) {t.topic} [{t.type}] 토픽을 {verb_ko}합니다",
                        )
                    )
                elif types:
                    findings.append(
                        Finding(
                            False,
                            f"{req.name} {verb_en} {t.topic} as {', '.join(types)}, expected {t.type}",
                            f"{req.name}의 {t.topic} 토픽 타입이 {', '.join(types)}입니다. {t.type}이어야 합니다",
                        )
                    )
                else:
                    findings.append(
                        Finding(
                            False,
                            f"{req.name} does not {verb_en.split()[0].rstrip('s')} {t.topic} [{t.type}]",
                            f"{req.name}이(가) {t.topic} [{t.type}] 토픽을 {verb_ko}하지 않습니다",
                        )
                    )
    return findings


def check_rates(required: tuple[NodeRequirement, ...], rates_hz: dict[str, float]) -> list[Finding]:
    findings = []
    for req in required:
        for t in req.publishes:
            if t.min_rate_hz <= 0:
                continue
            rate = rates_hz.get(t.topic, 0.0)
            if rate + 1e-6 >= t.min_rate_hz:
                findings.append(
                    Finding(
                        True,
                        f"{t.topic} at {rate:.1f} Hz (>= {t.min_rate_hz:g} Hz)",
                        f"{t.topic} {rate:.1f} Hz (기준 {t.min_rate_hz:g} Hz 이상)",
                    )
                )
            else:
                findings.append(
                    Finding(
                        False,
                        f"{t.topic} at {rate:.1f} Hz, below the required {t.min_rate_hz:g} Hz (sim time)",
                        f"{t.topic}이(가) {rate:.1f} Hz로, 기준 {t.min_rate_hz:g} Hz보다 느립니다 (시뮬레이션 시간 기준)",
                    )
                )
    return findings
