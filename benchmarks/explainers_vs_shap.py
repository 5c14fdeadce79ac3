"""Times and checks glassbox's Shapley values against shap's explainers and against bare model calls.

    uv run python -m benchmarks.explainers_vs_shap                 # 16 features sampled, 12 exact
    uv run python -m benchmarks.explainers_vs_shap --rows 20 --background 100

On one Keras model trained by our Trainer (synthetic binary data, benchmarks/synthetic.py), called
through its ``serving_features`` signature, the same explained rows and background:
  exact      glassbox's exact Shapley values (enumeration): the reference at --features, and
             timed on a second model at --exact-features;
  glassbox   paired KernelSHAP at several coalition budgets;
  shap       KernelExplainer (default: l1_reg='num_features(10)', and l1_reg=False; both
             2 x features + 2048 coalitions) and PermutationExplainer (default 500 and 2048
             evaluations), fed the same model function through a matrix wrapper;
  model      bare calls of the model function on as many rows as a method evaluated, in
             chunks as large as the masking engine's: the floor any masking explainer pays.
Prints, per method, its time, its time over the bare model calls, its relative L2 error against
the exact values (over all rows) and how much faster it is than shap's KernelExplainer.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from typing import Callable, Dict, List, Optional

import numpy as np

from benchmarks import synthetic

BUDGETS = (256, 512, 1024, 2048)
# Timed runs of glassbox's methods and of the bare model calls (shap's, slower, run once).
REPEATS = 3


def trained_model(num_features: int, directory: str, seed: int = 0):
    """Our Trainer's model on synthetic data with num_features inputs; its data (rows x features)."""
    from glassbox.explain.model_function import SavedModelFunction
    from glassbox.training.config import TrainingConfig
    from glassbox.training.model import FEATURES_SIGNATURE_NAME, export_serving_model, train_model
    import tensorflow as tf

    data = synthetic.synthetic(synthetic.BINARY, 20_000, num_inputs=num_features, seed=seed)
    columns = {name: data.inputs[:, i:i + 1] for i, name in enumerate(data.input_names)}
    columns["label"] = data.labels[:, None]
    config = TrainingConfig(label="label", numeric_features=data.input_names, hidden_units=(32, 16),
                            epochs=3, batch_size=256, seed=seed)
    model = train_model(columns, config)
    export_serving_model(model, {name: tf.io.FixedLenFeature([1], tf.float32) for name in data.input_names},
                         directory)
    return SavedModelFunction(directory, signature_name=FEATURES_SIGNATURE_NAME), data


def timed(run: Callable[[], object], repeats: int = 1):
    """run's result and its fastest time over repeats (the machine is shared: the minimum is
    the least disturbed run)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return result, min(seconds)


def model_call_seconds(model, rows: Dict[str, np.ndarray], evaluations: int) -> float:
    """Seconds of calling model on `evaluations` rows, in chunks of the masking engine's size."""
    from glassbox.explain.masking import DEFAULT_CHUNK_SIZE

    chunk = {name: np.resize(values, DEFAULT_CHUNK_SIZE) for name, values in rows.items()}

    def call():
        for begin in range(0, evaluations, DEFAULT_CHUNK_SIZE):
            size = min(DEFAULT_CHUNK_SIZE, evaluations - begin)
            model({name: values[:size] for name, values in chunk.items()})

    return timed(call, REPEATS)[1]


def relative_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(estimate - exact) / np.linalg.norm(exact))


class Table:
    def __init__(self, floor_rows: Dict[str, np.ndarray], model, exact: Optional[np.ndarray]):
        self.rows: List[dict] = []
        self._floor_rows, self._model, self._exact = floor_rows, model, exact

    def add(self, method: str, seconds: float, evaluations: int, values: np.ndarray) -> None:
        floor = model_call_seconds(self._model, self._floor_rows, evaluations)
        error = relative_error(values, self._exact) if self._exact is not None else float("nan")
        self.rows.append(dict(method=method, seconds=seconds, evaluations=evaluations, floor=floor, error=error))

    def print(self, versus: Optional[str] = None) -> None:
        reference = next((row["seconds"] for row in self.rows if row["method"] == versus), None)
        print(f"{'method':42} {'evaluations':>12} {'seconds':>8} {'model s':>8} {'/ model':>8} "
              f"{'rel. L2 err':>11} {'vs shap':>8}")
        for row in self.rows:
            speedup = f"{reference / row['seconds']:7.1f}x" if reference else ""
            print(f"{row['method']:42} {row['evaluations']:12,d} {row['seconds']:8.2f} {row['floor']:8.2f} "
                  f"{row['seconds'] / row['floor']:7.2f}x {row['error']:11.2e} {speedup:>8}")


def matrix_model(model, names):
    """The model function as shap calls models: a float matrix, one column per feature."""
    return lambda matrix: model({name: matrix[:, i].astype(np.float32) for i, name in enumerate(names)})


def run(num_features: int, exact_features: int, num_rows: int, background_size: int, seed: int) -> None:
    import shap
    from glassbox.explain.exact_shapley import exact_shapley
    from glassbox.explain.kernel_shap import kernel_shap

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as directory:
        print(f"== exact Shapley values, {exact_features} features, {num_rows} rows, "
              f"{background_size} background rows")
        model, data = trained_model(exact_features, f"{directory}/exact", seed)
        rows, background = _rows(data, rng, num_rows, background_size)
        model(rows)  # warm up the signature
        table = Table(rows, model, None)
        attributions, seconds = timed(lambda: exact_shapley(model, rows, background), REPEATS)
        table.add("glassbox exact", seconds, _evaluations(2 ** exact_features - 2, num_rows, background_size),
                  attributions.values)
        table.print()

        print(f"\n== Shapley value estimates, {num_features} features, {num_rows} rows, "
              f"{background_size} background rows")
        model, data = trained_model(num_features, f"{directory}/sampled", seed)
        rows, background = _rows(data, rng, num_rows, background_size)
        model(rows)
        exact, exact_seconds = timed(lambda: exact_shapley(model, rows, background))
        print(f"(exact reference: {exact_seconds:.1f} s)")
        table = Table(rows, model, exact.values)
        for budget in BUDGETS:
            attributions, seconds = timed(lambda: kernel_shap(model, rows, background, num_coalitions=budget,
                                                              seed=seed), REPEATS)
            table.add(f"glassbox KernelSHAP, {budget} coalitions", seconds,
                      _evaluations(budget, num_rows, background_size), attributions.values)
            print(f"  {budget} coalitions: mean stated standard error {attributions.standard_errors.mean():.2e}, "
                  f"actual mean abs. error {np.abs(attributions.values - exact.values).mean():.2e}")

        names = list(rows)
        matrix = np.stack([rows[name] for name in names], axis=1)
        background_matrix = np.stack([background[name] for name in names], axis=1)
        function = matrix_model(model, names)
        for label, options in (("shap KernelExplainer (default)", {}),
                               ("shap KernelExplainer l1_reg=False", {"l1_reg": False})):
            explainer = shap.KernelExplainer(function, background_matrix)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values, seconds = timed(lambda: explainer.shap_values(matrix, silent=True, **options))
            coalitions = 2 * num_features + 2048  # its nsamples='auto'
            table.add(label, seconds, _evaluations(coalitions, num_rows, background_size), np.asarray(values))
        masker = shap.maskers.Independent(background_matrix, max_samples=background_size)
        for label, max_evals in (("shap PermutationExplainer (default)", 500),
                                 ("shap PermutationExplainer, 2048 evals", 2048)):
            explainer = shap.PermutationExplainer(function, masker, seed=seed)
            result, seconds = timed(lambda: explainer(matrix, max_evals=max_evals, silent=True))
            per_permutation = 2 * num_features + 1  # forward and backward, shared ends
            table.add(label, seconds, _evaluations(max_evals // per_permutation * per_permutation, num_rows,
                                                   background_size), result.values)
        table.print(versus="shap KernelExplainer (default)")


def _rows(data, rng, num_rows: int, background_size: int):
    chosen = rng.choice(data.num_examples, num_rows + background_size, replace=False)
    columns = {name: data.inputs[:, i] for i, name in enumerate(data.input_names)}
    rows = {name: values[chosen[:num_rows]] for name, values in columns.items()}
    background = {name: values[chosen[num_rows:]] for name, values in columns.items()}
    return rows, background


def _evaluations(coalitions: int, num_rows: int, background_size: int) -> int:
    """Model evaluations of masking explainers: coalitions x background rows per row."""
    return coalitions * background_size * num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--exact-features", type=int, default=12)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--background", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run(args.features, args.exact_features, args.rows, args.background, args.seed)


if __name__ == "__main__":
    main()
