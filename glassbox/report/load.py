"""A report's data, read from artifact directories: an evaluation in TFMA's format (with any
explanations written into it) and, optionally, a validation's decision.json. Cross slices
(TFMA's cross_slicing_specs) are rows of their own, named "A minus B".

The evaluation's metrics and attributions are read by the Validator's reader
(`glassbox.validation.reader`), its plots by TFMA's loader; the plots are shrunk to what a chart
shows (`glassbox.report.curves`) and numbers rounded, so a report stays small with many slices.
"""

from __future__ import annotations

import collections
import json
import math
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import numpy as np

from glassbox import filesystem, keys
from glassbox.report import curves
from glassbox.report.errors import ReportError
from glassbox.report.examples import load_examples
from glassbox.report.gallery import load_images, load_texts
from glassbox.report.model import (
    BASELINE,
    CANDIDATE,
    DIFF,
    Attributions,
    AttributionShift,
    Calibration,
    ClassMatrix,
    EvaluationView,
    ExplanationSummary,
    FeatureImportance,
    MethodAccuracy,
    MetricColumn,
    PlotSeries,
    Report,
    SliceRow,
    Surrogate,
    ThresholdCurve,
)
from glassbox.validation.decision_file import load_decision

# The weighted example count the slice filter uses: the first of these the evaluation has.
COUNT_METRICS = ("weighted_example_count", "example_count")
VALUE_DIGITS = 6  # significant digits of metric values and attributions
PLOT_DIGITS = 4  # significant digits of plot data
# Methods whose accuracy the summary holds beside "methods", under their own name.
WHAT_IF_METHODS = ("counterfactual", "partial_dependence")


def build_report(
    evaluation_dir: str, validation_dir: Optional[str] = None, title: Optional[str] = None
) -> Report:
    """The report of an evaluation directory and, optionally, of the validation made on it."""
    evaluation = load_evaluation(evaluation_dir)
    validation = load_decision(validation_dir) if validation_dir else None
    return Report(
        title=title or f"glassbox report: {evaluation.candidate or 'model'}",
        evaluation=evaluation,
        validation=validation,
    )


def load_evaluation(path: str) -> EvaluationView:
    """An evaluation directory's metrics, plots and explanations; raises a GlassboxError on bad input."""
    from glassbox.report.partial_dependence import load_partial_dependence  # (it imports this)
    from glassbox.validation.reader import read_evaluation, slice_label

    evaluation = read_evaluation(path)
    baseline = evaluation.baseline_name
    everything = {**evaluation.slices, **evaluation.cross_slices}
    keys = sorted(
        {key for metrics in everything.values() for key in metrics.metrics},
        key=lambda key: (
            key.name,
            _sub_label(key),
            _role(key, baseline) != CANDIDATE,
            key.is_diff,
            not key.example_weighted,
        ),
    )
    labels = _labels(keys, _role_qualifier(baseline))
    columns = [_column(key, labels, baseline) for key in keys]
    rows = [_slice_row(slice_label(k), m, keys) for k, m in evaluation.slices.items()]
    cross_rows = sorted(
        (_slice_row(slice_label(k), m, keys) for k, m in evaluation.cross_slices.items()),
        key=lambda row: row.name,
    )
    count = _count_key(keys, evaluation.candidate_name)
    headline = next(
        (
            labels[key]
            for key in keys
            if _role(key, baseline) == CANDIDATE and key.name not in COUNT_METRICS
        ),
        None,
    )
    return EvaluationView(
        path=path,
        candidate=evaluation.candidate_name,
        baseline=baseline,
        model_locations=dict(evaluation.model_locations),
        columns=columns,
        slices=rows,
        cross_slices=cross_rows,
        default_metric=headline or (columns[0].id if columns else None),
        count_column=labels[count] if count else None,
        plots=_plots(path, baseline, slice_label),
        attributions=_attributions(evaluation.attributions, baseline, slice_label),
        surrogate=load_surrogate(path),
        explanation_summary=load_explanation_summary(path),
        simple_model=load_simple_model(path),
        drift=load_drift(path),
        examples=load_examples(path),
        images=load_images(path),
        texts=load_texts(path),
        partial_dependence=load_partial_dependence(path),
    )


def _slice_row(name: str, metrics, keys: Sequence) -> SliceRow:
    values = [metrics.metrics.get(key) for key in keys]
    return SliceRow(
        name=name,
        values=[_rounded(m.value, VALUE_DIGITS) if m else None for m in values],
        intervals={
            i: (_rounded(m.lower_bound, VALUE_DIGITS), _rounded(m.upper_bound, VALUE_DIGITS))
            for i, m in enumerate(values)
            if m and m.has_interval
        },
        error=metrics.error or "",
    )


def _column(key, labels: Dict[Any, str], baseline: Optional[str]) -> MetricColumn:
    """A metric's column; a candidate's names its baseline and diff columns and its checks' label."""
    from glassbox.validation.checks import metric_label

    role = _role(key, baseline)
    partners = (
        {
            "baseline_id": labels.get(key._replace(model_name=baseline)),
            "diff_id": labels.get(key._replace(is_diff=True)),
            "check_metric": metric_label(key),
        }
        if role == CANDIDATE
        else {}
    )
    return MetricColumn(
        id=labels[key], name=key.name, role=role, sub_key=_sub_label(key), **partners
    )


def _role(key, baseline: Optional[str]) -> str:
    if key.is_diff:
        return DIFF
    return BASELINE if baseline is not None and key.model_name == baseline else CANDIDATE


def _role_qualifier(baseline: Optional[str]) -> Callable[[Any], List[str]]:
    """A label qualifier naming the baseline and diff roles (the candidate's metrics go unqualified)."""
    return lambda key: [] if _role(key, baseline) == CANDIDATE else [_role(key, baseline)]


def _sub_label(key) -> str:
    """The parts of a metric or plot key below its name: output, class or top k, aggregation."""
    parts = [
        key.output_name,
        str(key.sub_key) if key.sub_key else "",
        str(key.aggregation_type) if key.aggregation_type else "",
    ]
    return " ".join(part for part in parts if part)


def _labels(
    keys: Sequence, qualifiers: Callable[[Any], List[str]], with_name: bool = True
) -> Dict[Any, str]:
    """A unique label per key: its name, its sub label in brackets and qualifiers in parentheses.

    The weighting is a qualifier only where a metric exists both weighted and unweighted.
    """
    variants = collections.Counter(key._replace(example_weighted=None) for key in keys)
    labels = {}
    for key in keys:
        extra = qualifiers(key)
        if variants[key._replace(example_weighted=None)] > 1:
            extra = extra + ["weighted" if key.example_weighted else "unweighted"]
        sub = _sub_label(key)
        text = (key.name + (f" [{sub}]" if sub else "")) if with_name else sub
        labels[key] = " ".join(
            part for part in [text, f"({', '.join(extra)})" if extra else ""] if part
        )
    return labels


def _count_key(keys: Iterable, candidate: str):
    """The candidate's weighted example count (else its example count), for the slice filter."""
    counts = [
        key
        for key in keys
        if key.name in COUNT_METRICS and key.model_name == candidate and not key.is_diff
    ]
    return min(
        counts,
        key=lambda key: (
            COUNT_METRICS.index(key.name),
            not key.example_weighted,
            bool(_sub_label(key)),
        ),
        default=None,
    )


def _rounded(value: Optional[float], digits: int) -> Optional[float]:
    """value to `digits` significant digits; None for None, NaN and infinities (not JSON)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def _rounded_list(values, digits: int = PLOT_DIGITS) -> List[Optional[float]]:
    return [_rounded(float(v), digits) for v in values]


def _plots(path: str, baseline: Optional[str], slice_label) -> Dict[str, List[PlotSeries]]:
    """Slice string -> the plots of each model and sub key (none when the evaluation has none)."""
    from tensorflow_model_analysis import constants as tfma_constants

    from glassbox.tfma_keys import PlotKey, slice_key
    from glassbox.validation.reader import read_records

    plots: Dict[str, List[PlotSeries]] = {}
    for record in read_records(path, tfma_constants.PLOTS_KEY, required=False):
        if record.HasField("cross_slice_key"):
            continue
        keyed = [
            (PlotKey.from_proto(entry.key), entry.value) for entry in record.plot_keys_and_values
        ]
        if not keyed:
            continue  # a slice withheld by min_slice_size
        labels = _labels([key for key, _ in keyed], lambda key: [], with_name=False)
        series = plots.setdefault(slice_label(slice_key(record.slice_key)), [])
        # The candidate's first: the baseline's curve keeps the candidate's thresholds too.
        keyed.sort(key=lambda pair: _role(pair[0], baseline) != CANDIDATE)
        chosen: Dict[str, List[float]] = {}
        for key, data in keyed:
            drawn = _plot_series(_role(key, baseline), labels[key], data, chosen.get(labels[key]))
            if drawn.role == CANDIDATE and drawn.thresholds:
                chosen[labels[key]] = drawn.thresholds.threshold
            series.append(drawn)
    return plots


def _plot_series(
    role: str, curve_label: str, data, candidate_thresholds: Optional[List[float]] = None
) -> PlotSeries:
    """A model's plots; its threshold curve keeps `candidate_thresholds` (the candidate's, for the
    baseline: so that both confusion matrices are drawn at the threshold a reader picks)."""
    return PlotSeries(
        role=role,
        curve_label=curve_label,
        thresholds=_threshold_curve(
            data.confusion_matrix_at_thresholds.matrices, candidate_thresholds
        ),
        calibration=_calibration(data.calibration_histogram_buckets.buckets),
        class_matrices=[
            ClassMatrix(
                threshold=matrix.threshold,
                actual=[e.actual_class_id for e in matrix.entries],
                predicted=[e.predicted_class_id for e in matrix.entries],
                weight=_rounded_list(
                    [e.num_weighted_examples for e in matrix.entries], VALUE_DIGITS
                ),
            )
            for matrix in data.multi_class_confusion_matrix_at_thresholds.matrices
        ],
    )


def _threshold_curve(matrices, also: Optional[List[float]] = None) -> Optional[ThresholdCurve]:
    """The points of a ConfusionMatrixPlot worth drawing, and those at the thresholds `also` (as
    rounded on the page); proto fields are read only where needed: with many slices, reading them
    is most of the report's build time."""
    if not matrices:
        return None
    tp = np.array([m.true_positives for m in matrices])
    fp = np.array([m.false_positives for m in matrices])
    positives, negatives = tp[0] + matrices[0].false_negatives, fp[0] + matrices[0].true_negatives
    kept = curves.curve_point_indices(tp, fp, positives, negatives)
    if also:
        thresholds = _rounded_list([m.threshold for m in matrices])
        wanted = set(also)
        extra = [i for i, threshold in enumerate(thresholds) if threshold in wanted]
        kept = np.union1d(kept, np.asarray(extra, dtype=int))
    return ThresholdCurve(
        threshold=_rounded_list([matrices[int(i)].threshold for i in kept]),
        tp=_rounded_list(tp[kept], VALUE_DIGITS),
        fp=_rounded_list(fp[kept], VALUE_DIGITS),
        positives=_rounded(positives, VALUE_DIGITS),
        negatives=_rounded(negatives, VALUE_DIGITS),
    )


def _calibration(buckets) -> Optional[Calibration]:
    """A CalibrationPlot's buckets merged (TFMA's layout: (-inf, low), [low, ...), ..., [high, inf))."""
    weight = np.array([b.num_weighted_examples.value for b in buckets])
    present = [buckets[int(i)] for i in np.flatnonzero(weight)]
    if not present:
        return None
    merged = curves.rebin_calibration(
        [b.lower_threshold_inclusive for b in present],
        [b.upper_threshold_exclusive for b in present],
        weight[weight != 0],
        [b.total_weighted_label.value for b in present],
        [b.total_weighted_refined_prediction.value for b in present],
        low=buckets[0].upper_threshold_exclusive,
        high=buckets[-1].lower_threshold_inclusive,
    )
    return Calibration(*(_rounded_list(column) for column in merged))


def _attributions(by_slice_key: Dict, baseline: Optional[str], slice_label) -> List[Attributions]:
    """Per attribution metric (e.g. mean |attribution| of a model), per slice, per feature."""
    keys = sorted(
        {key for metrics in by_slice_key.values() for key in metrics},
        key=lambda key: (_role(key, baseline) != CANDIDATE, str(key)),
    )
    labels = _labels(keys, lambda key: [_role(key, baseline)] if baseline is not None else [])
    return [
        Attributions(
            metric=labels[key],
            name=key.name,
            role=_role(key, baseline),
            by_slice={
                slice_label(slice_key): {
                    feature: _rounded(value, VALUE_DIGITS)
                    for feature, value in metrics[key].items()
                }
                for slice_key, metrics in by_slice_key.items()
                if key in metrics
            },
        )
        for key in keys
    ]


def _read_json(path: str, what: str) -> Any:
    """The file's JSON, NaN and infinities (which Python writes, JSON lacks) read as None."""
    try:
        return json.loads(filesystem.read_text(path), parse_constant=lambda _: None)
    except (OSError, ValueError) as e:
        raise ReportError(f"cannot read {what} {path}: {e}") from e


def load_drift(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """The evaluation's drift from its reference (drift.json), distances rounded, if any."""
    path = os.path.join(evaluation_dir, keys.DRIFT_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the drift")
    if not (
        isinstance(content, dict)
        and isinstance(content.get("slices"), list)
        and all(
            isinstance(s, dict)
            and isinstance(s.get("slice_name"), str)
            and isinstance(s.get("features"), list)
            and isinstance(s.get("predictions"), list)
            for s in content["slices"]
        )
    ):
        raise ReportError(
            f"{path} is not drift as glassbox.drift.files writes it: expected "
            '{"reference": ..., "slices": [{"slice_name": ..., "features": [...], "predictions": [...]}]}'
        )
    return {
        **content,
        "slices": [
            {
                **s,
                "features": [_rounded_entry(e) for e in s["features"]],
                "predictions": [_rounded_entry(e) for e in s["predictions"]],
            }
            for s in content["slices"]
        ],
    }


def _rounded_entry(entry: Dict[str, Any]) -> Dict[str, Any]:
    return {
        name: _rounded(value, VALUE_DIGITS) if isinstance(value, float) else value
        for name, value in entry.items()
    }


def load_surrogate(evaluation_dir: str) -> Optional[Surrogate]:
    """The global surrogate written into the evaluation directory, if any."""
    path = os.path.join(evaluation_dir, keys.SURROGATE_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the surrogate")
    fidelity = content.get("fidelity", {}) if isinstance(content, dict) else None
    if not (
        isinstance(fidelity, dict)
        and isinstance(content.get("rules"), str)
        and all(
            isinstance(values, dict)
            and all(v is None or isinstance(v, (int, float)) for v in values.values())
            for values in fidelity.values()
        )
    ):
        raise ReportError(
            f"{path} is not a surrogate: expected "
            '{"rules": "...", "fidelity": {"<slice>": {"r2": <number or null>, "agreement": <number or null>}}}'
        )
    return Surrogate(
        rules=content["rules"],
        fidelity={
            slice_name: {
                name: None if value is None else _rounded(value, VALUE_DIGITS)
                for name, value in values.items()
            }
            for slice_name, values in fidelity.items()
        },
    )


def load_simple_model(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """The simpler-model check's simple_model.json in the evaluation directory, if any."""
    path = os.path.join(evaluation_dir, keys.SIMPLE_MODEL_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the simpler-model check")
    if not (
        isinstance(content, dict)
        and isinstance(content.get("candidate"), dict)
        and isinstance(content.get("models"), list)
    ):
        raise ReportError(
            f'{path} is not a simpler-model check: expected {{"candidate": {{"score": ...}}, '
            '"models": [...], ...}'
        )
    return content


def load_explanation_summary(evaluation_dir: str) -> Optional[ExplanationSummary]:
    """The explanations' summary written into the evaluation directory, if any."""
    path = os.path.join(evaluation_dir, keys.EXPLANATION_SUMMARY_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the explanation summary")
    try:
        models = content["models"]
        return ExplanationSummary(
            accuracy=[
                MethodAccuracy(model=role, method=method, accuracy=_statement(result["accuracy"]))
                for role, summary in models.items()
                for method, result in summary["methods"].items()
            ]
            + [
                MethodAccuracy(model=role, method=method, accuracy=_statement(summary[method]))
                for role, summary in models.items()
                for method in WHAT_IF_METHODS
                if summary.get(method)
            ],
            permutation=[
                row
                for role, summary in models.items()
                for row in _permutation_importance(role, summary["permutation_importance"])
            ],
            shift=[
                AttributionShift(
                    slice=slice_name,
                    attribution_shift=_rounded(result["attribution_shift"], VALUE_DIGITS),
                    top_k=result["top_k"],
                    top_k_overlap=result["top_k_overlap"],
                    candidate_top_k=result.get("candidate_top_k") or [],
                    baseline_top_k=result.get("baseline_top_k") or [],
                )
                for slice_name, result in ((content["shift"] or {}).get("slices") or {}).items()
            ],
            standard_errors={
                role: {
                    slice_name: {
                        feature: _rounded(value, VALUE_DIGITS)
                        for feature, value in (result.get("standard_error") or {}).items()
                    }
                    for slice_name, result in summary["methods"]
                    .get(summary.get("primary_method"), {})
                    .get("slices", {})
                    .items()
                }
                for role, summary in models.items()
            },
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise ReportError(
            f"{path} is not an explanation summary (as glassbox.explain.writer writes it): "
            f"{type(e).__name__}: {e}"
        ) from e


def _permutation_importance(
    role: str, permutation: Optional[Dict[str, Any]]
) -> List[FeatureImportance]:
    """A model's permutation importances, per slice and feature (none when not computed)."""
    return [
        FeatureImportance(
            model=role,
            slice=slice_name,
            metric=permutation["metric"],
            feature=feature,
            mean=_rounded(value["mean"], VALUE_DIGITS),
            std=_rounded(value["std"], VALUE_DIGITS),
        )
        for slice_name, result in (permutation["slices"].items() if permutation else ())
        for feature, value in result["importance"].items()
    ]


def _statement(accuracy: Dict[str, Any]) -> str:
    """A method's accuracy statement as text: each figure (but the method's name) with its value."""
    return ", ".join(
        f"{name} {_figure(value)}" for name, value in accuracy.items() if name != "method"
    )


def _figure(value: Any) -> str:
    if value is None:  # NaN or infinite, as the summary's JSON is read
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)
