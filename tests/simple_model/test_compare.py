"""compare, the pure function: regression and multiclass samples, scores equal to scikit-learn's
on the same rows, and refusals naming the field."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.preprocessing import StandardScaler

from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.simple_model.compare import Sample, compare
from glassbox.simple_model.config import SimpleModelConfigError, check_simple_model_config

RNG = np.random.default_rng(0)
X = RNG.normal(size=(600, 2))
HELD = np.arange(600) % 3 == 0


def _sample(labels, predictions):
    return Sample(
        features={"a": X[:, 0], "b": X[:, 1]},
        labels=labels,
        weights=np.ones(600),
        predictions=predictions,
        held_out=HELD,
        examples=600,
    )


def _models(result):
    return {m["name"]: m for m in result["models"]}


def test_regression_scores_rmse_like_scikit_learn_and_reads_the_coefficients():
    target = X @ [2.0, -1.0] + RNG.normal(scale=0.5, size=600)
    result = compare(_sample(target, target * 0 + target.mean()), SimpleModelConfig())
    assert (result["task"], result["metric"], result["higher_is_better"]) == (
        "regression",
        "rmse",
        False,
    )
    scaler = StandardScaler().fit(X[~HELD])
    linear = LinearRegression().fit(scaler.transform(X[~HELD]), target[~HELD])
    expected = mean_squared_error(target[HELD], linear.predict(scaler.transform(X[HELD]))) ** 0.5
    model = _models(result)["linear_regression"]
    assert model["score"] == pytest.approx(expected, rel=1e-12)
    assert model["candidate_lead"] == pytest.approx(expected - result["candidate"]["score"])
    assert model["candidate_lead"] < 0  # a constant candidate loses to the line
    assert list(model["coefficients"]) == ["a", "b"]
    assert model["coefficients"]["a"] == pytest.approx(2.0 * X[~HELD, 0].std(), rel=0.1)


def test_multiclass_scores_accuracy_like_scikit_learn():
    classes = np.argmax(np.column_stack([X[:, 0], X[:, 1], -X.sum(axis=1)]), axis=1)
    predictions = np.full((600, 3), 1 / 3)
    predictions[np.arange(600), classes] = 0.9  # a candidate always right
    result = compare(_sample(classes.astype(float), predictions), SimpleModelConfig())
    assert (result["task"], result["metric"]) == ("multiclass", "accuracy")
    assert result["candidate"]["score"] == 1.0
    scaler = StandardScaler().fit(X[~HELD])
    logistic = LogisticRegression(max_iter=1000).fit(scaler.transform(X[~HELD]), classes[~HELD])
    expected = accuracy_score(classes[HELD], logistic.predict(scaler.transform(X[HELD])))
    assert _models(result)["logistic_regression"]["score"] == pytest.approx(expected)
    assert set(_models(result)["logistic_regression"]["coefficients"]) == {
        "class 0",
        "class 1",
        "class 2",
    }


@pytest.mark.parametrize(
    "config, culprit",
    [
        (SimpleModelConfig(metric="f1"), "'metric' is 'f1'"),
        (
            SimpleModelConfig(metric="auc", task=SimpleModelConfig.REGRESSION),
            "'metric' 'auc' does not score a regression task",
        ),
        (SimpleModelConfig(holdout_fraction=1.5), "'holdout_fraction' must be between 0 and 1"),
        (SimpleModelConfig(regularization_c=-1), "'regularization_c' must be a finite number > 0"),
    ],
)
def test_a_bad_config_is_refused_naming_the_field(config, culprit):
    with pytest.raises(SimpleModelConfigError, match=culprit):
        check_simple_model_config(config)


def test_a_metric_the_data_cannot_take_is_refused_naming_the_field():
    with pytest.raises(
        SimpleModelConfigError, match="'metric' 'auc' does not score the regression"
    ):
        compare(_sample(X[:, 0], X[:, 0]), SimpleModelConfig(metric="auc"))


@pytest.mark.parametrize(
    "config, predictions, culprit",
    [
        (
            SimpleModelConfig(task=SimpleModelConfig.MULTICLASS),
            X[:, 0],
            "'task' is multiclass, but the candidate predicts 1 value",
        ),
        (
            SimpleModelConfig(metric="log_loss"),
            X[:, 0],
            "'metric' 'log_loss' reads the candidate's predictions as probabilities",
        ),
    ],
)
def test_predictions_the_task_or_metric_cannot_read_are_refused(config, predictions, culprit):
    labels = (X[:, 0] > 0).astype(float)
    with pytest.raises(SimpleModelConfigError, match=culprit):
        compare(_sample(labels, predictions), config)
