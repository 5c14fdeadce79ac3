"""The comparison itself, a pure function of the sampled examples: simple interpretable models
(scikit-learn's logistic or linear regression and a shallow decision tree) fitted on the sample's
fit part, the candidate's predictions and theirs scored with one metric on the held-out part.

Numeric features are imputed with the fit part's mean (and standardised for the linear models,
whose coefficients are so per standard deviation); categorical ones (bytes, or named in
categorical_features) are one-hot encoded, a missing value being the category "(missing)".
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.simple_model import config as config_lib
from glassbox.simple_model.config import (
    BINARY,
    DEFAULT_METRICS,
    METRICS,
    MULTICLASS,
    REGRESSION,
    SimpleModelConfigError,
)

MISSING = "(missing)"
LOGISTIC_REGRESSION = "logistic_regression"
LINEAR_REGRESSION = "linear_regression"
DECISION_TREE = "decision_tree"
MODELS = (LOGISTIC_REGRESSION, LINEAR_REGRESSION, DECISION_TREE)


@dataclasses.dataclass(frozen=True)
class Sample:
    """The sampled examples.

    Attributes:
      features: per feature, one value per example: float64 (NaN: missing) or objects (str,
        None: missing).
      labels: the candidate's labels, (n,) or (n, k) (one-hot).
      weights: example weights, (n,).
      predictions: the candidate's predictions, (n,) or (n, k).
      held_out: which examples score the models (the others fit them), (n,) bool.
      left_out: features of the examples not used (more than one value in an example).
      examples: examples in the data the sample was drawn from.
    """

    features: Dict[str, np.ndarray]
    labels: np.ndarray
    weights: np.ndarray
    predictions: np.ndarray
    held_out: np.ndarray
    left_out: Tuple[str, ...] = ()
    examples: int = 0


def infer_task(labels: np.ndarray, predictions: np.ndarray) -> str:
    """BINARY for 0/1 labels and one or two predictions per example, MULTICLASS for more
    predictions per example, else REGRESSION."""
    columns = 1 if predictions.ndim == 1 else predictions.shape[1]
    if columns > 2:
        return MULTICLASS
    binary = labels.ndim == 1 or labels.shape[1] == 1
    if binary and np.isin(labels, (0.0, 1.0)).all():
        return BINARY
    return MULTICLASS if columns == 2 else REGRESSION


def _targets(task: str, labels: np.ndarray, classes: int) -> np.ndarray:
    """Labels as the simple models fit them: class indices (int) or numbers."""
    if task == REGRESSION:
        return labels.reshape(len(labels)).astype(np.float64)
    if labels.ndim == 2 and labels.shape[1] > 1:
        return labels.argmax(axis=1)
    indices = labels.reshape(len(labels))
    outside = indices[~np.isin(indices, np.arange(classes))]
    if len(outside):
        raise SimpleModelConfigError(
            f"the labels of this {task} task (SimpleModelConfig field 'task') hold values outside "
            f"its {classes} classes 0..{classes - 1}, e.g. {outside[0]:g}"
        )
    return indices.astype(np.int64)


def _check_predictions(task: str, metric: str, predictions: np.ndarray) -> None:
    """Refuses predictions the task or metric cannot read (naming the field that chose it)."""
    columns = 1 if predictions.ndim == 1 else predictions.shape[1]
    expected = {BINARY: (1, 2), MULTICLASS: range(2, 1 << 31), REGRESSION: (1,)}[task]
    if columns not in expected:
        raise SimpleModelConfigError(
            f"SimpleModelConfig field 'task' is {task}, but the candidate predicts {columns} "
            "value(s) per example"
        )
    probabilities = metric == "log_loss" or (metric == "accuracy" and task == BINARY)
    if probabilities and not ((predictions >= 0) & (predictions <= 1)).all():
        raise SimpleModelConfigError(
            f"SimpleModelConfig field 'metric' {metric!r} reads the candidate's predictions as "
            "probabilities, and they leave [0, 1] (logits?); use 'auc', or a probability output"
        )


def _scores(task: str, predictions: np.ndarray) -> np.ndarray:
    """The candidate's predictions as the metric takes them: the positive class's probability
    (binary), a probability per class (multiclass), a number (regression)."""
    if task == BINARY and predictions.ndim == 2:
        return predictions[:, -1]
    if task == MULTICLASS:
        return predictions
    return predictions.reshape(len(predictions))


def score(metric: str, targets: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """The metric of scores (as ``_scores`` gives them) against the targets, example-weighted."""
    from sklearn import metrics

    if metric == "auc":
        return float(metrics.roc_auc_score(targets, scores, sample_weight=weights))
    if metric == "accuracy":
        predicted = scores.argmax(axis=1) if scores.ndim == 2 else scores >= 0.5
        return float(metrics.accuracy_score(targets, predicted, sample_weight=weights))
    if metric == "log_loss":
        labels = list(range(scores.shape[1])) if scores.ndim == 2 else [0, 1]
        return float(metrics.log_loss(targets, scores, sample_weight=weights, labels=labels))
    if metric == "rmse":
        return math.sqrt(metrics.mean_squared_error(targets, scores, sample_weight=weights))
    return float(metrics.mean_absolute_error(targets, scores, sample_weight=weights))


def _frame(sample: Sample, names: Sequence[str], categorical: Sequence[str]):
    import pandas as pd

    columns = {}
    for name in names:
        values = sample.features[name]
        if name in categorical:
            values = np.array(
                [MISSING if _missing(v) else str(v) for v in values.tolist()], dtype=object
            )
        columns[name] = values
    return pd.DataFrame(columns)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _preprocessing(numeric: Sequence[str], categorical: Sequence[str], scaled: bool):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True),
        *([StandardScaler()] if scaled else []),
    )
    return ColumnTransformer(
        [
            ("numeric", numbers, list(numeric)),
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="ignore",
                    sparse_output=False,
                    feature_name_combiner=lambda feature, value: f"{feature}={value}",
                ),
                list(categorical),
            ),
        ],
        verbose_feature_names_out=False,
    )


def _models(task: str, config: SimpleModelConfig, numeric, categorical) -> List[Tuple[str, Any]]:
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    depth = config.tree_max_depth or config_lib.DEFAULT_TREE_MAX_DEPTH
    seed = config.seed % 2**32
    if task == REGRESSION:
        linear = (LINEAR_REGRESSION, LinearRegression())
        tree = DecisionTreeRegressor(max_depth=depth, random_state=seed)
    else:
        c = config.regularization_c or config_lib.DEFAULT_REGULARIZATION_C
        linear = (LOGISTIC_REGRESSION, LogisticRegression(C=c, max_iter=1000))
        tree = DecisionTreeClassifier(max_depth=depth, random_state=seed)
    return [
        (
            linear[0],
            Pipeline(
                [("features", _preprocessing(numeric, categorical, True)), ("model", linear[1])]
            ),
        ),
        (
            DECISION_TREE,
            Pipeline([("features", _preprocessing(numeric, categorical, False)), ("model", tree)]),
        ),
    ]


def _model_scores(task: str, pipeline, frame, classes: int) -> np.ndarray:
    if task == REGRESSION:
        return pipeline.predict(frame)
    probabilities = pipeline.predict_proba(frame)
    full = np.zeros((len(frame), classes))
    full[:, pipeline.named_steps["model"].classes_] = probabilities
    return full[:, 1] if task == BINARY else full


def _readable(name: str, pipeline, task: str, classes: Sequence[int]) -> Dict[str, Any]:
    """What a person reads of a fitted model: coefficients, or the tree's rules."""
    from sklearn.tree import export_text

    features = [str(f) for f in pipeline.named_steps["features"].get_feature_names_out()]
    model = pipeline.named_steps["model"]
    if name == DECISION_TREE:
        return {
            "max_depth": int(model.max_depth),
            "leaves": int(model.get_n_leaves()),
            "rules": export_text(model, feature_names=features, decimals=4),
        }
    coefficients = np.atleast_2d(model.coef_)
    intercepts = np.atleast_1d(model.intercept_)
    if len(coefficients) == 1:
        return {
            "intercept": float(intercepts[0]),
            "coefficients": dict(zip(features, coefficients[0].tolist())),
        }
    return {
        "intercept": {f"class {c}": float(i) for c, i in zip(classes, intercepts)},
        "coefficients": {
            f"class {c}": dict(zip(features, row.tolist())) for c, row in zip(classes, coefficients)
        },
    }


def compare(sample: Sample, config: SimpleModelConfig) -> Dict[str, Any]:
    """Fits the simple models on the sample's fit part and scores them and the candidate on its
    held-out part: simple_model.json's content.

    Raises:
      SimpleModelConfigError: a metric the task cannot score, a named feature the sample lacks,
        no feature, too few examples in a part, labels not of the task.
    """
    task = config_lib.task_name(config.task) or infer_task(sample.labels, sample.predictions)
    metric = config.metric or DEFAULT_METRICS[task]
    higher_is_better, tasks = METRICS[metric]
    if task not in tasks:
        raise SimpleModelConfigError(
            f"SimpleModelConfig field 'metric' {metric!r} does not score the {task} task of this "
            f"evaluation; use one of {', '.join(m for m, (_, t) in METRICS.items() if task in t)}"
        )
    _check_predictions(task, metric, sample.predictions)
    names = sorted(sample.features)
    if not names:
        raise SimpleModelConfigError(
            "SimpleModelConfig field 'features': no feature of the examples holds one value per "
            "example for the simple models to read"
        )
    categorical = [
        n for n in names if n in config.categorical_features or sample.features[n].dtype == object
    ]
    numeric = [n for n in names if n not in categorical]
    classes = 2 if task == BINARY else (sample.predictions.shape[1] if task == MULTICLASS else 0)
    targets = _targets(task, sample.labels, classes)
    held = sample.held_out
    for part, rows in (("fit", ~held), ("held-out", held)):
        count, distinct = int(rows.sum()), len(np.unique(targets[rows]))
        if count < 2 or (task != REGRESSION and distinct < 2):
            raise SimpleModelConfigError(
                f"the sample's {part} part holds {count} examples"
                + ("" if task == REGRESSION else f" of {distinct} class(es)")
                + "; the simple models need more (raise SimpleModelConfig field 'sample_size' or "
                "change 'holdout_fraction')"
            )
    frame = _frame(sample, names, categorical)
    fit, test = frame[~held], frame[held]
    weights = sample.weights
    candidate = score(metric, targets[held], _scores(task, sample.predictions)[held], weights[held])
    models = []
    for name, pipeline in _models(task, config, numeric, categorical):
        pipeline.fit(fit, targets[~held], model__sample_weight=weights[~held])
        value = score(
            metric, targets[held], _model_scores(task, pipeline, test, classes), weights[held]
        )
        lead = candidate - value if higher_is_better else value - candidate
        models.append(
            {
                "name": name,
                "score": value,
                "candidate_lead": lead,
                **_readable(name, pipeline, task, list(range(classes))),
            }
        )
    return {
        "task": task,
        "metric": metric,
        "higher_is_better": higher_is_better,
        "examples": sample.examples,
        "sampled": int(len(held)),
        "fit_examples": int((~held).sum()),
        "held_out_examples": int(held.sum()),
        "seed": int(config.seed),
        "features": names,
        "categorical_features": categorical,
        "left_out_features": list(sample.left_out),
        "candidate": {"score": candidate},
        "models": models,
    }
