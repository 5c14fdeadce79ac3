"""The report's data model: what a report shows, as plain values (no TensorFlow, no TFMA).

`Report.payload()` is the JSON the page embeds; the page's script draws every view from it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from glassbox.report.examples import ExplainedRows

# The roles of a metric column.
CANDIDATE, BASELINE, DIFF = "candidate", "baseline", "diff"


@dataclasses.dataclass(frozen=True)
class MetricColumn:
    """One scalar metric of the table: a metric of the candidate, the baseline or their difference.

    `id` is the column's label, unique in a report, and is what the page's URL names it by.
    """

    id: str
    name: str  # TFMA's metric name, e.g. "auc"
    role: str  # CANDIDATE, BASELINE or DIFF (candidate minus baseline)
    sub_key: str = ""  # TFMA's sub key text, e.g. "classId:1", "topK:3"
    # Of a candidate's metric: the ids of the baseline's and the diff's columns of the same metric,
    # and the metric as the validation's checks name it (e.g. "auc (example-weighted)").
    baseline_id: Optional[str] = None
    diff_id: Optional[str] = None
    check_metric: str = ""


@dataclasses.dataclass(frozen=True)
class SliceRow:
    """A slice's values, one per column (None where absent); `error` is why they were withheld."""

    name: str  # TFMA's slice string: "Overall", "category:a", "a_X_b:1_X_2"
    values: List[Optional[float]]
    # Column index -> (lower, upper) bounds, when the evaluation computed confidence intervals.
    intervals: Dict[int, Tuple[float, float]] = dataclasses.field(default_factory=dict)
    error: str = ""


@dataclasses.dataclass(frozen=True)
class ThresholdCurve:
    """Confusion counts at decision thresholds (ascending), the points of the ROC and PR curves.

    True and false negatives are the totals less tp and fp; precision and recall follow (the page
    derives them with TFMA's conventions).
    """

    threshold: List[float]
    tp: List[float]
    fp: List[float]
    positives: float  # weighted examples labelled positive
    negatives: float  # weighted examples labelled negative


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Prediction buckets [lower, upper) with their weighted example, label and prediction sums."""

    lower: List[float]
    upper: List[float]
    weight: List[float]
    label: List[float]
    prediction: List[float]


@dataclasses.dataclass(frozen=True)
class ClassMatrix:
    """A multi-class confusion matrix at a threshold, as (actual, predicted, weight) entries."""

    threshold: float
    actual: List[int]
    predicted: List[int]
    weight: List[float]


@dataclasses.dataclass(frozen=True)
class PlotSeries:
    """One model's plots of a slice for one sub key (the page's "curve" choice)."""

    role: str  # CANDIDATE or BASELINE
    curve_label: str  # "" for the default curve, else e.g. "classId:1"
    thresholds: Optional[ThresholdCurve] = None
    calibration: Optional[Calibration] = None
    class_matrices: List[ClassMatrix] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Attributions:
    """One attribution metric (e.g. mean |attribution|): per slice, per feature."""

    metric: str  # unique label, e.g. "mean_absolute_attributions (baseline)"
    by_slice: Dict[str, Dict[str, float]]
    name: str = ""  # the attribution metric's name, shared by the candidate's and the baseline's
    role: str = CANDIDATE


@dataclasses.dataclass(frozen=True)
class Surrogate:
    """The global surrogate's rules and, per slice, its fidelity to the model."""

    rules: str
    fidelity: Dict[str, Dict[str, float]]  # slice -> {"r2": ..., "agreement": ...}


@dataclasses.dataclass(frozen=True)
class MethodAccuracy:
    """The accuracy a local method states of its attributions of a model, e.g. "mean_standard_error 0"."""

    model: str  # CANDIDATE or BASELINE
    method: str
    accuracy: str


@dataclasses.dataclass(frozen=True)
class FeatureImportance:
    """A feature's permutation importance on a slice: the metric's mean worsening, and its spread."""

    model: str
    slice: str
    metric: str
    feature: str
    mean: Optional[float]
    std: Optional[float]


@dataclasses.dataclass(frozen=True)
class AttributionShift:
    """On a slice, how far the candidate's attribution shares moved from the baseline's."""

    slice: str
    attribution_shift: Optional[float]  # total variation of the shares: 0 same, 1 disjoint
    top_k: int
    top_k_overlap: int  # of the candidate's top_k features, how many are among the baseline's
    candidate_top_k: List[str] = dataclasses.field(default_factory=list)
    baseline_top_k: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class ExplanationSummary:
    """explanation_summary.json in brief: each method's accuracy, permutation importance, shift."""

    accuracy: List[MethodAccuracy]
    permutation: List[FeatureImportance]
    shift: List[AttributionShift]
    # Model role -> slice -> feature -> standard error of the primary method's mean |attribution|.
    standard_errors: Dict[str, Dict[str, Dict[str, Optional[float]]]] = dataclasses.field(
        default_factory=dict
    )


@dataclasses.dataclass(frozen=True)
class EvaluationView:
    """An evaluation as the report shows it."""

    path: str
    candidate: str
    baseline: Optional[str]
    model_locations: Dict[str, str]
    columns: List[MetricColumn]
    slices: List[SliceRow]  # the overall slice first
    default_metric: Optional[str]  # column id the slice views open on
    count_column: Optional[str]  # column id of the weighted example count the filter uses
    plots: Dict[str, List[PlotSeries]]  # slice name -> series
    attributions: List[Attributions] = dataclasses.field(default_factory=list)
    # Comparisons of two slices (TFMA's cross_slicing_specs), named "A minus B": A's values less B's.
    cross_slices: List[SliceRow] = dataclasses.field(default_factory=list)
    surrogate: Optional[Surrogate] = None
    explanation_summary: Optional[ExplanationSummary] = None
    # simple_model.json (glassbox.simple_model), as written, when the evaluation has one.
    simple_model: Optional[Dict[str, Any]] = None
    # drift.json as written (glassbox.drift.files), distances rounded; None without a reference.
    drift: Optional[Dict[str, Any]] = None
    # The explained rows (explanations.json, glassbox.report.examples), when explanations ran.
    examples: Optional[ExplainedRows] = None
    # The explained images and texts (glassbox.report.gallery), when the evaluation has them.
    images: Optional[Dict[str, Any]] = None
    texts: Optional[Dict[str, Any]] = None
    # partial_dependence.json as written (glassbox.report.partial_dependence), scores rounded.
    partial_dependence: Optional[Dict[str, Any]] = None


@dataclasses.dataclass(frozen=True)
class Report:
    """A report page: an evaluation and, optionally, the validation decision made on it."""

    title: str
    evaluation: EvaluationView
    validation: Optional[Dict[str, Any]] = None  # decision.json as the Validator wrote it

    def views(self) -> List[str]:
        """The page's views (tabs), the decision first; views with nothing to show are left out."""
        evaluation = self.evaluation
        return (
            (["validation"] if self.validation is not None else [])
            + ["slices"]
            + (["plots"] if evaluation.plots else [])
            + (
                ["explanations"]
                if evaluation.attributions
                or evaluation.surrogate
                or evaluation.explanation_summary
                or evaluation.partial_dependence
                else []
            )
            + (["examples"] if evaluation.examples else [])
            + (["images"] if evaluation.images else [])
            + (["texts"] if evaluation.texts else [])
            + (["drift"] if evaluation.drift else [])
        )

    def payload(self) -> Dict[str, Any]:
        """The data the page draws from (dataclasses become JSON objects, see page.render_page)."""
        return {"views": self.views(), "evaluation": self.evaluation, "validation": self.validation}
