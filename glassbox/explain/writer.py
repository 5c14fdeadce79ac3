"""Writing explanations into an evaluation directory.

* ``attributions-00000-of-00001.tfrecord``: TFMA's AttributionsForSlice records, converted and
  named as TFMA's writer does, so ``tfma.load_attributions(evaluation_dir)`` reads them: per
  explained slice and model (TFMA's model name), the primary (first local) method's ``mean_absolute_attributions`` and
  ``mean_attributions`` over the slice's explained rows, per feature or feature group.
* ``explanations.json``: each explained row's feature values, slices and, per model and local
  method, its attributions; with partial_dependence, its own ICE curves (see ``examples_json``).
* ``explanation_summary.json``: the sample, every method's per-slice results and statement of
  its accuracy, and the attribution shift from the baseline (see ``summary_json``).
* ``surrogate.json``: the candidate's global surrogate (rules, fidelity per slice), with the
  baseline's under ``"baseline"``.
* ``image_explanations.json`` and ``image_maps.npz`` (with image methods): per model and method,
  its accuracy and each slice's mean heat map per explained class and per true label; each row's
  class and score, and each model's predicted class; the rows' maps and thumbnails (<= 64 px)
  in the .npz (see ``image_json`` and ``image_maps``).
* ``partial_dependence.json`` (with partial_dependence): the grid of each feature, per model its
  PDP per slice and the ICE curves of each slice's first rows (see ``partial_dependence_json``).
* ``text_explanations.json`` (with text methods): per model and method, its accuracy and each
  slice's most influential tokens; each row's tokens and their attributions, and each model's
  predicted class (see ``text_json``).
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, Dict, List, Optional, Tuple

import apache_beam as beam
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_model_analysis import constants as tfma_constants
from tensorflow_model_analysis.metrics import attributions as tfma_attributions_lib
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox import keys
from glassbox.data.types import SliceKey
from glassbox.explain import shift
from glassbox.explain.counterfactual import Counterfactuals
from glassbox.explain.evaluation import (
    BASELINE,
    CANDIDATE,
    Explanation,
    ModelExplanation,
    global_importance,
)
from glassbox.explain.json_values import finite_or_none
from glassbox.protos.explain_config_pb2 import Background
from glassbox.staging import tfma_records_file, write_records, writing

MEAN_ABSOLUTE = tfma_attributions_lib.MEAN_ABSOLUTE_ATTRIBUTIONS_NAME
MEAN = tfma_attributions_lib.MEAN_ATTRIBUTIONS_NAME

SliceAttributions = Tuple[SliceKey, Dict[metric_types.AttributionsKey, Dict[str, float]]]


def _by_group(groups, values) -> Dict[str, Optional[float]]:
    return {group: finite_or_none(value) for group, value in zip(groups, values)}


def _json_value(value: Any) -> Any:
    """A feature value as JSON holds it: bytes as UTF-8 text, numpy numbers as numbers."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        value = value.item()
    return finite_or_none(value) if isinstance(value, float) else value


def tfma_attributions(explanation: Explanation) -> List[SliceAttributions]:
    """Each explained slice's attributions of each model's primary method, keyed as TFMA keys them."""
    result = []
    for name, mask in explanation.sample.slices.items():
        values = {}
        for model in explanation.models:
            if model.primary is None:
                continue
            attributions = model.local[model.primary].attributions
            importance = global_importance(attributions.values, mask)
            for metric, numbers in (
                (MEAN_ABSOLUTE, importance.mean_absolute),
                (MEAN, importance.mean),
            ):
                key = metric_types.AttributionsKey(
                    name=metric, model_name=model.model_name, example_weighted=False
                )
                values[key] = dict(zip(attributions.groups, numbers.tolist()))
        if values:
            result.append((explanation.sample.slice_keys[name], values))
    return result


def _method_summary(model: ModelExplanation, explanation: Explanation) -> Dict[str, dict]:
    result = {}
    for method, local in model.local.items():
        groups = local.attributions.groups
        slices = {}
        for name, mask in explanation.sample.slices.items():
            importance = global_importance(local.attributions.values, mask)
            slices[name] = {
                "rows": importance.rows,
                "mean_absolute_attribution": _by_group(groups, importance.mean_absolute),
                "mean_attribution": _by_group(groups, importance.mean),
                "standard_error": _by_group(groups, importance.standard_error),
            }
        result[method] = {"accuracy": local.accuracy, "slices": slices}
    return result


def _primary_importance(model: ModelExplanation, mask: np.ndarray) -> Dict[str, float]:
    attributions = model.local[model.primary].attributions
    return dict(
        zip(
            attributions.groups, global_importance(attributions.values, mask).mean_absolute.tolist()
        )
    )


def _shift(explanation: Explanation) -> Optional[dict]:
    roles = {model.role: model for model in explanation.models}
    candidate, baseline = roles.get(CANDIDATE), roles.get(BASELINE)
    if (
        candidate is None
        or baseline is None
        or candidate.primary is None
        or baseline.primary is None
    ):
        return None
    return {
        "candidate_method": candidate.primary,
        "baseline_method": baseline.primary,
        "slices": {
            name: shift.comparison(
                _primary_importance(candidate, mask), _primary_importance(baseline, mask)
            )
            for name, mask in explanation.sample.slices.items()
        },
    }


def summary_json(explanation: Explanation) -> dict:
    """The sample, each model's per-slice results and accuracy, and the shift between the models."""
    sample = explanation.sample
    config = explanation.config
    return {
        "config": json_format.MessageToDict(config, preserving_proto_field_name=True),
        "sample": {
            "seed": config.seed,
            "slices": {
                name: {"explained_rows": int(mask.sum()), "examples": sample.slice_sizes[name]}
                for name, mask in sample.slices.items()
            },
            "background": {
                "rows": len(next(iter(sample.background.values()))),
                "sampling": Background.Sampling.Name(
                    config.background.sampling or Background.RANDOM
                ),
                "weights": None
                if sample.background_weights is None
                else sample.background_weights.tolist(),
                "features": {
                    name: [_json_value(v) for v in values]
                    for name, values in sample.background.items()
                },
            },
            "not_attributed": list(sample.not_attributed),
        },
        "models": {
            model.role: {
                "model_name": model.model_name,
                "model_dir": model.model_dir,
                "primary_method": model.primary,
                "methods": _method_summary(model, explanation),
                "permutation_importance": model.permutation.to_json()
                if model.permutation
                else None,
                "global_surrogate": model.surrogate.to_json() if model.surrogate else None,
                "image_methods": {
                    method: result.accuracy for method, result in model.images.items()
                },
                "text_methods": {method: result.accuracy for method, result in model.texts.items()},
                "counterfactual": model.counterfactuals.accuracy
                if model.counterfactuals is not None
                else None,
                "partial_dependence": model.partial_dependence.accuracy
                if model.partial_dependence is not None
                else None,
            }
            for model in explanation.models
        },
        "shift": _shift(explanation),
    }


def _counterfactual(result: Counterfactuals, rows, i: int) -> Optional[dict]:
    """Row i's counterfactual: its distance, feature values, score and outcome, the row's outcome,
    and each differing feature's values in the row and in it; None when the pool has none."""
    j = int(result.index[i])
    if j < 0:
        return None
    return {
        "distance": finite_or_none(float(result.distance[i])),
        "outcome": int(result.pool_outcomes.classes[j]),
        "prediction": finite_or_none(float(result.pool_outcomes.scores[j])),
        "row_outcome": int(result.row_outcomes.classes[i]),
        "features": {name: _json_value(result.pool[name][j]) for name in result.pool},
        "changes": {
            name: {"from": _json_value(old), "to": _json_value(new)}
            for name, (old, new) in result.changes(rows, i).items()
        },
    }


def examples_json(explanation: Explanation) -> dict:
    """Each explained row: its id (hash), slices, feature values, label and, per model, its score,
    every local method's attributions (with standard errors where the method estimates them),
    with the counterfactual method its counterfactual (see _counterfactual) and, with
    partial_dependence, its ICE curves (``"ice": {feature: [score per grid value]}``: the model's
    score of the row with the feature set to each value of partial_dependence.json's grid, the
    report's what-if control); an image as its size (its maps are in image_maps.npz)."""
    sample = explanation.sample
    image_feature = (
        explanation.config.image.feature if explanation.config.HasField("image") else None
    )
    examples = []
    for i, row_id in enumerate(sample.ids):
        models = {}
        for model in explanation.models:
            methods = {}
            for method, local in model.local.items():
                a = local.attributions
                methods[method] = {
                    "base_value": finite_or_none(a.base_value),
                    "attributions": _by_group(a.groups, a.values[i]),
                    "standard_errors": None
                    if a.standard_errors is None
                    else _by_group(a.groups, a.standard_errors[i]),
                }
            models[model.role] = {
                "prediction": finite_or_none(model.predictions[i]),
                "methods": methods,
                **(
                    {"counterfactual": _counterfactual(model.counterfactuals, sample.rows, i)}
                    if model.counterfactuals is not None
                    else {}
                ),
                **(
                    {
                        "ice": {
                            feature: _numbers(curves.ice[i])
                            for feature, curves in model.partial_dependence.features.items()
                        }
                    }
                    if model.partial_dependence is not None
                    else {}
                ),
            }
        examples.append(
            {
                "id": row_id,
                "slices": [name for name, mask in sample.slices.items() if mask[i]],
                "features": {
                    name: f"<encoded image, {len(values[i])} bytes>"
                    if name == image_feature
                    else _json_value(values[i])
                    for name, values in sample.rows.items()
                },
                "label": None if sample.labels is None else finite_or_none(sample.labels[i]),
                "models": models,
            }
        )
    return {
        "primary_methods": {model.role: model.primary for model in explanation.models},
        "model_names": {model.role: model.model_name for model in explanation.models},
        "examples": examples,
    }


def surrogate_json(explanation: Explanation) -> Optional[dict]:
    """The candidate's surrogate tree and fidelity, the baseline's under 'baseline'; None without one."""
    trees = {
        model.role: model.surrogate.to_json() for model in explanation.models if model.surrogate
    }
    if CANDIDATE not in trees:
        return None
    return {**trees[CANDIDATE], **({BASELINE: trees[BASELINE]} if BASELINE in trees else {})}


def _rounded(values: np.ndarray) -> list:
    """A map as nested lists of numbers of 4 significant digits."""
    return np.vectorize(lambda v: float(f"{v:.4g}"), otypes=[float])(values).tolist()


def _mean_maps(maps: np.ndarray, groups: Optional[np.ndarray], mask: np.ndarray) -> dict:
    """{group: {"rows", "mean_map"}} of the rows of mask, by group value (int when whole)."""
    if groups is None:
        return {}
    result = {}
    for value in np.unique(groups[mask]):
        members = mask & (groups == value)
        name = str(int(value)) if float(value).is_integer() else str(value)
        result[name] = {
            "rows": int(members.sum()),
            "mean_map": _rounded(maps[members].mean(axis=0)),
        }
    return result


def image_json(explanation: Explanation) -> Optional[dict]:
    """Per model and image method: its accuracy, the maps' height and width, and per slice the
    mean map of the rows of each explained class (``by_class``) and of each true label
    (``by_label``, when read); per row its slices, label, each map's class and score, and each
    model's predicted class (``predicted``, by role). None without image methods."""
    if not any(model.images for model in explanation.models):
        return None
    sample = explanation.sample
    models = {}
    for model in explanation.models:
        methods = {}
        for method, result in model.images.items():
            methods[method] = {
                "accuracy": result.accuracy,
                "height": int(result.maps.shape[1]),
                "width": int(result.maps.shape[2]),
                "slices": {
                    name: {
                        "rows": int(mask.sum()),
                        "by_class": _mean_maps(result.maps, result.targets, mask),
                        "by_label": _mean_maps(result.maps, sample.labels, mask),
                    }
                    for name, mask in sample.slices.items()
                },
            }
        models[model.role] = {"model_name": model.model_name, "methods": methods}
    examples = [
        {
            "id": row_id,
            "slices": [name for name, mask in sample.slices.items() if mask[i]],
            "label": None if sample.labels is None else finite_or_none(sample.labels[i]),
            "models": {
                model.role: {
                    method: {
                        "class": int(result.targets[i]),
                        "score": finite_or_none(result.scores[i]),
                    }
                    for method, result in model.images.items()
                }
                for model in explanation.models
            },
            "predicted": _predicted(explanation.models, "images", i),
        }
        for i, row_id in enumerate(sample.ids)
    ]
    return {
        "feature": explanation.config.image.feature,
        "maps_file": keys.IMAGE_MAPS_FILE,
        "models": models,
        "examples": examples,
    }


TOP_TOKENS = 20


def _top_tokens(result, mask: np.ndarray) -> List[dict]:
    """The slice's TOP_TOKENS tokens of largest mean |attribution| over their occurrences in
    the rows of mask: token, occurrences, mean attribution, mean |attribution|."""
    values: Dict[str, List[float]] = {}
    for i in np.flatnonzero(mask):
        for token, value in zip(result.tokens[i], result.values[i]):
            values.setdefault(token, []).append(float(value))
    ranked = sorted(values.items(), key=lambda item: (-np.mean(np.abs(item[1])), item[0]))
    return [
        {
            "token": token,
            "occurrences": len(numbers),
            "mean_attribution": finite_or_none(float(np.mean(numbers))),
            "mean_absolute_attribution": finite_or_none(float(np.mean(np.abs(numbers)))),
        }
        for token, numbers in ranked[:TOP_TOKENS]
    ]


def text_json(explanation: Explanation) -> Optional[dict]:
    """Per model and text method: its accuracy and per slice its rows and top tokens (see
    _top_tokens); per row its id, slices, label, per model and method its tokens, their
    attributions, the class explained and its score, and each model's predicted class
    (``predicted``, by role). None without text methods."""
    if not any(model.texts for model in explanation.models):
        return None
    sample = explanation.sample
    return {
        "feature": explanation.config.text.feature,
        "models": {
            model.role: {
                "model_name": model.model_name,
                "methods": {
                    method: {
                        "accuracy": result.accuracy,
                        "slices": {
                            name: {"rows": int(mask.sum()), "top_tokens": _top_tokens(result, mask)}
                            for name, mask in sample.slices.items()
                        },
                    }
                    for method, result in model.texts.items()
                },
            }
            for model in explanation.models
        },
        "examples": [
            {
                "id": row_id,
                "slices": [name for name, mask in sample.slices.items() if mask[i]],
                "label": None if sample.labels is None else finite_or_none(sample.labels[i]),
                "models": {
                    model.role: {
                        method: {
                            "tokens": list(result.tokens[i]),
                            "attributions": [finite_or_none(float(v)) for v in result.values[i]],
                            "class": int(result.targets[i]),
                            "score": finite_or_none(result.scores[i]),
                        }
                        for method, result in model.texts.items()
                    }
                    for model in explanation.models
                },
                "predicted": _predicted(explanation.models, "texts", i),
            }
            for i, row_id in enumerate(sample.ids)
        ],
    }


def _numbers(values: np.ndarray) -> list:
    return [finite_or_none(float(v)) for v in values]


def partial_dependence_json(explanation: Explanation) -> Optional[dict]:
    """``{"features": {feature: {"grid": [values]}}, "slices": {slice: {"rows": n, "ice_ids":
    [row id]}}, "models": {role: {"model_name", "features": {feature: {"pdp": {slice: [score per
    grid value]}, "ice": {row id: [score per grid value]}}}}}}``: the PDP of each slice's explained
    rows, the ICE curves of its first ice_rows rows (ice_ids). None without partial_dependence."""
    models = [model for model in explanation.models if model.partial_dependence is not None]
    if not models:
        return None
    sample = explanation.sample
    first = models[0].partial_dependence
    written = {name: first.ice_indices(mask) for name, mask in first.slices.items()}
    ice_rows = sorted({int(i) for indices in written.values() for i in indices})
    return {
        "features": {
            feature: {"grid": [_json_value(v) for v in curves.grid]}
            for feature, curves in first.features.items()
        },
        "slices": {
            name: {"rows": int(mask.sum()), "ice_ids": [sample.ids[i] for i in written[name]]}
            for name, mask in first.slices.items()
        },
        "models": {
            model.role: {
                "model_name": model.model_name,
                "features": {
                    feature: {
                        "pdp": {
                            name: _numbers(curves.pdp(mask))
                            for name, mask in model.partial_dependence.slices.items()
                        },
                        "ice": {sample.ids[i]: _numbers(curves.ice[i]) for i in ice_rows},
                    }
                    for feature, curves in model.partial_dependence.features.items()
                },
            }
            for model in models
        },
    }


def _predicted(models, kind: str, i: int) -> Dict[str, int]:
    """Row i's predicted class by each model with results of kind ('images' or 'texts')."""
    return {
        model.role: int(next(iter(getattr(model, kind).values())).predicted[i])
        for model in models
        if getattr(model, kind)
    }


def image_maps(explanation: Explanation) -> Dict[str, np.ndarray]:
    """The arrays of image_maps.npz: ``ids`` (rows,), ``thumbnails`` (rows, th, tw, 1 or 3)
    uint8 (glassbox.explain.thumbnails) and, per model role and image method,
    ``{role}/{method}/maps`` (rows, height, width) float32 and ``{role}/{method}/classes``."""
    arrays = {"ids": np.array(explanation.sample.ids)}
    small = next((m.thumbnails for m in explanation.models if m.thumbnails is not None), None)
    if small is not None:
        arrays["thumbnails"] = small
    for model in explanation.models:
        for method, result in model.images.items():
            arrays[f"{model.role}/{method}/maps"] = result.maps.astype(np.float32)
            arrays[f"{model.role}/{method}/classes"] = result.targets.astype(np.int64)
    return arrays


def json_files(explanation: Explanation) -> Dict[str, dict]:
    """The JSON documents by file name."""
    files = {
        keys.EXPLANATIONS_FILE: examples_json(explanation),
        keys.EXPLANATION_SUMMARY_FILE: summary_json(explanation),
    }
    surrogate = surrogate_json(explanation)
    if surrogate is not None:
        files[keys.SURROGATE_FILE] = surrogate
    for name, document in (
        (keys.IMAGE_EXPLANATIONS_FILE, image_json(explanation)),
        (keys.TEXT_EXPLANATIONS_FILE, text_json(explanation)),
        (keys.PARTIAL_DEPENDENCE_FILE, partial_dependence_json(explanation)),
    ):
        if document is not None:
            files[name] = document
    return files


def _write_files(explanation: Explanation, output_dir: str) -> None:
    """TFMA's attributions file (as TFMA's writer converts and names it), then the JSON files."""
    write_records(
        tfma_records_file(output_dir, tfma_constants.ATTRIBUTIONS_KEY),
        (
            mpv_writer.convert_slice_attributions_to_proto(attributions).SerializeToString()
            for attributions in tfma_attributions(explanation)
        ),
    )
    for name, content in json_files(explanation).items():
        with writing(output_dir), tf.io.gfile.GFile(os.path.join(output_dir, name), "w") as f:
            json.dump(content, f, indent=1, allow_nan=False)
    if any(model.images for model in explanation.models):
        buffer = io.BytesIO()  # a zip file is written with seeks, which GFile has not
        np.savez_compressed(buffer, **image_maps(explanation))
        path = os.path.join(output_dir, keys.IMAGE_MAPS_FILE)
        with writing(output_dir), tf.io.gfile.GFile(path, "wb") as f:
            f.write(buffer.getvalue())


class WriteExplanations(beam.PTransform):
    """Writes a PCollection of one Explanation into output_dir (see the module docstring)."""

    def __init__(self, output_dir: str):
        super().__init__()
        self._output_dir = output_dir

    def expand(self, explanations):
        return explanations | "WriteFiles" >> beam.Map(_write_files, self._output_dir)
