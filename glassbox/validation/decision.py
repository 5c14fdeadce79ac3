"""The decision: blessed or not, why in one line, and every check in one sentence (JSON and Markdown)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Optional

from tensorflow_model_analysis.proto import validation_result_pb2

from glassbox.provenance.override import Override
from glassbox.validation.checks import NO_APPLICABLE_CHECK, Check


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """A model the decision is about: its name in the evaluation and, when known, its artifact's uri and MLMD id."""

    name: str
    uri: Optional[str] = None
    id: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        parts = [
            f"`{self.uri}`" if self.uri else None,
            f"MLMD id {self.id}" if self.id is not None else None,
        ]
        details = ", ".join(p for p in parts if p)
        return f"{self.name or '(unnamed)'}" + (f" ({details})" if details else "")


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether the candidate is blessed, and why.

    blessed equals validation_ok (every check passed; skipped checks count as passed) unless a
    person's override of the candidate decided (override; the checks and validation_ok stay as
    the checks found): TFX tools read validation_ok from the ValidationResult, the Pusher and
    people read blessed. rubber_stamp: there was no baseline, so comparisons with one were
    skipped. Callers that know the model artifacts fill in candidate/baseline with
    ``dataclasses.replace(decision, candidate=ModelRef(name, uri, id))``.
    """

    blessed: bool
    validation_ok: bool
    rubber_stamp: bool
    reason: str
    evaluation: str
    candidate: ModelRef
    baseline: Optional[ModelRef]
    checks: List[Check]
    validation_result: validation_result_pb2.ValidationResult
    override: Optional[Override] = None

    @property
    def failures(self) -> int:
        return sum(not check.passed for check in self.checks)

    def to_json(self) -> Dict[str, Any]:
        return {
            "blessed": self.blessed,
            "validation_ok": self.validation_ok,
            "rubber_stamp": self.rubber_stamp,
            "failures": self.failures,
            "reason": self.reason,
            "evaluation": self.evaluation,
            "candidate": self.candidate.to_json(),
            "baseline": self.baseline.to_json() if self.baseline else None,
            "checks": [check.to_json() for check in self.checks],
            "override": self.override.to_json() if self.override else None,
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n"

    def to_markdown(self) -> str:
        verdict = "BLESSED" if self.blessed else "NOT BLESSED"
        lines: List[str] = [
            f"# Validation: {verdict}",
            "",
            self.reason,
            "",
        ]
        if self.override:
            lines += [f"**{self.override.sentence()}** ({self.override.describe()})", ""]
        lines += [
            f"- Evaluation: `{self.evaluation}`",
            f"- Candidate: {self.candidate.describe()}",
            "- Baseline: "
            + (
                self.baseline.describe()
                if self.baseline
                else "none (first model: comparisons skipped, rubber stamp)"
            ),
        ]
        groups = (
            ("Failed", [c for c in self.checks if not c.passed]),
            ("Passed", [c for c in self.checks if c.passed and not c.skipped]),
            ("Skipped", [c for c in self.checks if c.skipped]),
        )
        for title, group in groups:
            if group:
                lines += ["", f"## {title} ({len(group)})", ""]
                lines += [f"- {check.sentence} `{check.kind}`" for check in group]
        return "\n".join(lines) + "\n"


def reason(checks: List[Check], rubber_stamp: bool) -> str:
    """The decision in one line."""
    policy = next((c for c in checks if c.kind == NO_APPLICABLE_CHECK), None)
    if policy is not None:
        return (
            "Blessed as a rubber stamp. " if policy.passed else "Not blessed. "
        ) + policy.sentence
    failed = [c for c in checks if not c.passed]
    skipped = sum(c.skipped for c in checks)
    if not checks:
        return (
            "Blessed without checks: nothing is configured to check and allow_no_thresholds is set."
        )
    if failed:
        first = failed[0].sentence
        return f"Not blessed: {len(failed)} of {len(checks)} checks failed, first: {first}"
    passed = len(checks) - skipped
    text = "Blessed: " + ("the 1 check" if passed == 1 else f"all {passed} checks") + " passed"
    if skipped:
        text += f" and {skipped} {'was' if skipped == 1 else 'were'} skipped"
    if rubber_stamp:
        text += " (first model: no baseline to compare with, rubber stamp)"
    return text + "."


def overridden(decision: Decision, override: Optional[Override]) -> Decision:
    """The decision as a person's override of its candidate makes it: blessed as approved (a veto
    beats the checks' blessing), the reason saying so before the checks' own; checks, failures and
    validation_ok unchanged. No override: the decision."""
    if override is None:
        return decision
    verdict = "Blessed" if override.approved else "Not blessed"
    return dataclasses.replace(
        decision,
        blessed=override.approved,
        override=override,
        reason=f"{verdict}: {override.sentence()} ({override.describe()}). "
        f"The checks alone: {decision.reason}",
    )


def decide(
    checks: List[Check],
    evaluation: str,
    candidate: ModelRef,
    baseline: Optional[ModelRef],
    result: validation_result_pb2.ValidationResult,
) -> Decision:
    return Decision(
        blessed=result.validation_ok,
        validation_ok=result.validation_ok,
        rubber_stamp=result.rubber_stamp,
        reason=reason(checks, result.rubber_stamp),
        evaluation=evaluation,
        candidate=candidate,
        baseline=baseline,
        checks=list(checks),
        validation_result=result,
    )
