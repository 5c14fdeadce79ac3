"""Times and checks glassbox's Shapley values against shap's explainers and against bare model calls.

    uv run python -m benchmarks.explainers_vs_shap                 # 16 features sampled, 12 exact
    uv run python -m benchmarks.explainers_vs_shap --rows 40 --background 100

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
Prints, per method, its time, its time over the bare model calls (wall clock, and CPU time of the
process: steadier on a shared machine), its relative L2 error against the exact values (over all
rows) and how much faster it is than shap's KernelExplainer (default). Each method and its bare
model calls are timed alternately, REPEATS times for glassbox (once for shap, slower), keeping the
fastest of each: on a shared machine, the least disturbed runs.
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
REPEATS = 5
KERNEL_DEFAULT = "shap KernelExplainer (default)"


def trained_model(num_features: int, directory: str, seed: int = 0):
    """Our Trainer's model on synthetic data with num_features inputs, as a model function; the data."""
    import tensorflow as tf

    from glassbox.explain.model_function import SavedModelFunction
    from glassbox.training.config import TrainingConfig
    from glassbox.training.model import FEATURES_SIGNATURE_NAME, export_serving_model, train_model

    data = synthetic.synthetic(synthetic.BINARY, 20_000, num_inputs=num_features, seed=seed)
    columns = {name: data.inputs[:, i : i + 1] for i, name in enumerate(data.input_names)}
    columns["label"] = data.labels[:, None]
    config = TrainingConfig(
        label="label",
        numeric_features=data.input_names,
        hidden_units=(32, 16),
        epochs=3,
        batch_size=256,
        seed=seed,
    )
    model = train_model(columns, config)
    export_serving_model(
        model,
        {name: tf.io.FixedLenFeature([1], tf.float32) for name in data.input_names},
        directory,
    )
    return SavedModelFunction(directory, signature_name=FEATURES_SIGNATURE_NAME), data


def bare_calls(model, rows: Dict[str, np.ndarray], evaluations: int) -> Callable[[], None]:
    """Calls of model on `evaluations` rows, in chunks of the masking engine's size."""
    from glassbox.explain.masking import DEFAULT_CHUNK_SIZE

    chunk = {name: np.resize(values, DEFAULT_CHUNK_SIZE) for name, values in rows.items()}

    def call():
        for begin in range(0, evaluations, DEFAULT_CHUNK_SIZE):
            size = min(DEFAULT_CHUNK_SIZE, evaluations - begin)
            model({name: values[:size] for name, values in chunk.items()})

    return call


def _seconds(run: Callable[[], object]):
    """run's result, wall and CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - start, time.process_time() - cpu


class Table:
    """Methods' times, model-call floors and errors against exact values (if given)."""

    def __init__(self, model, rows: Dict[str, np.ndarray], exact: Optional[np.ndarray]):
        self.rows: List[dict] = []
        self._model, self._rows, self._exact = model, rows, exact

    def measure(
        self, method: str, run: Callable[[], np.ndarray], evaluations: int, repeats: int = 1
    ) -> np.ndarray:
        """Times run (returning attributions (rows, features)) and its bare model calls, alternately."""
        floor = bare_calls(self._model, self._rows, evaluations)
        times, floors = [], []
        for _ in range(repeats):
            values, *elapsed = _seconds(run)
            times.append(elapsed)
            floors.append(_seconds(floor)[1:])
        error = (
            float(np.linalg.norm(values - self._exact) / np.linalg.norm(self._exact))
            if self._exact is not None
            else float("nan")
        )
        (seconds, cpu), (floor_seconds, floor_cpu) = np.min(times, axis=0), np.min(floors, axis=0)
        self.rows.append(
            dict(
                method=method,
                seconds=seconds,
                evaluations=evaluations,
                floor=floor_seconds,
                cpu_ratio=cpu / floor_cpu,
                error=error,
            )
        )
        return values

    def print(self) -> None:
        reference = next(
            (row["seconds"] for row in self.rows if row["method"] == KERNEL_DEFAULT), None
        )
        print(
            f"{'method':42} {'evaluations':>12} {'seconds':>8} {'model s':>8} {'/ model':>8} "
            f"{'CPU / model':>11} {'rel. L2 err':>11} {'vs shap':>8}"
        )
        for row in self.rows:
            speedup = f"{reference / row['seconds']:7.1f}x" if reference else ""
            print(
                f"{row['method']:42} {row['evaluations']:12,d} {row['seconds']:8.2f} {row['floor']:8.2f} "
                f"{row['seconds'] / row['floor']:7.2f}x {row['cpu_ratio']:10.2f}x {row['error']:11.2e} "
                f"{speedup:>8}"
            )


def run(
    num_features: int, exact_features: int, num_rows: int, background_size: int, seed: int
) -> None:
    import shap

    from glassbox.explain.exact_shapley import exact_shapley
    from glassbox.explain.kernel_shap import kernel_shap

    rng = np.random.default_rng(seed)
    evaluations = lambda coalitions: coalitions * background_size * num_rows  # noqa: E731
    with tempfile.TemporaryDirectory() as directory:
        print(
            f"== exact Shapley values, {exact_features} features, {num_rows} rows, "
            f"{background_size} background rows"
        )
        model, data = trained_model(exact_features, f"{directory}/exact", seed)
        rows, background = _rows(data, rng, num_rows, background_size)
        model(rows)  # builds the signature's function
        table = Table(model, rows, None)
        table.measure(
            "glassbox exact",
            lambda: exact_shapley(model, rows, background).values,
            evaluations(2**exact_features - 2),
            REPEATS,
        )
        table.print()

        print(
            f"\n== Shapley value estimates, {num_features} features, {num_rows} rows, "
            f"{background_size} background rows"
        )
        model, data = trained_model(num_features, f"{directory}/sampled", seed)
        rows, background = _rows(data, rng, num_rows, background_size)
        model(rows)
        exact, seconds, _ = _seconds(lambda: exact_shapley(model, rows, background))
        print(f"(exact reference: {seconds:.1f} s)")
        table = Table(model, rows, exact.values)
        for budget in BUDGETS:
            attributions = []
            table.measure(
                f"glassbox KernelSHAP, {budget} coalitions",
                lambda attributions=attributions, budget=budget: (
                    attributions.append(
                        kernel_shap(model, rows, background, num_coalitions=budget, seed=seed)
                    )
                    or attributions[-1].values
                ),
                evaluations(budget),
                REPEATS,
            )
            print(
                f"  {budget} coalitions: stated standard error (RMS) "
                f"{np.sqrt((attributions[-1].standard_errors ** 2).mean()):.2e}, actual error (RMS) "
                f"{np.sqrt(((attributions[-1].values - exact.values) ** 2).mean()):.2e}"
            )

        names = list(rows)
        matrix = np.stack([rows[name] for name in names], axis=1)
        background_matrix = np.stack([background[name] for name in names], axis=1)

        def on_matrix(values):  # shap calls models on float matrices
            return model({name: values[:, i].astype(np.float32) for i, name in enumerate(names)})

        for label, options in (
            (KERNEL_DEFAULT, {}),
            ("shap KernelExplainer l1_reg=False", {"l1_reg": False}),
        ):
            explainer = shap.KernelExplainer(on_matrix, background_matrix)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table.measure(
                    label,
                    lambda explainer=explainer, options=options: np.asarray(
                        explainer.shap_values(matrix, silent=True, **options)
                    ),
                    evaluations(2 * num_features + 2048),
                )  # its nsamples='auto'
        masker = shap.maskers.Independent(background_matrix, max_samples=background_size)
        per_permutation = 2 * num_features + 1  # forward and backward, shared ends
        for label, max_evals in (
            ("shap PermutationExplainer (default)", 500),
            ("shap PermutationExplainer, 2048 evals", 2048),
        ):
            explainer = shap.PermutationExplainer(on_matrix, masker, seed=seed)
            table.measure(
                label,
                lambda explainer=explainer, max_evals=max_evals: (
                    explainer(matrix, max_evals=max_evals, silent=True).values
                ),
                evaluations(max_evals // per_permutation * per_permutation),
            )
        table.print()


def _rows(data, rng, num_rows: int, background_size: int):
    chosen = rng.choice(data.num_examples, num_rows + background_size, replace=False)
    columns = {name: data.inputs[:, i] for i, name in enumerate(data.input_names)}
    rows = {name: values[chosen[:num_rows]] for name, values in columns.items()}
    background = {name: values[chosen[num_rows:]] for name, values in columns.items()}
    return rows, background


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--exact-features", type=int, default=12)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--background", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run(args.features, args.exact_features, args.rows, args.background, args.seed)


if __name__ == "__main__":
    main()
