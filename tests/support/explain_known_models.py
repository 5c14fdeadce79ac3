"""Keras 3 models with known attributions, over the raw features of ``explain_models.columns``."""

from __future__ import annotations

from typing import Mapping, Sequence

import keras
import numpy as np

from tests.support.explain_models import CITIES


def linear_model(
    weights: Sequence[float],
    city_effects: Mapping[str, float],
    rooms_slope: float = 0.0,
    bias: float = 0.0,
) -> keras.Model:
    """logit = bias + sum_i weights[i] * x_i + city_effects[city] + rooms_slope * rooms.

    Takes a dict of [n, 1] inputs ``x0``..``x{k-1}`` (float32), ``city`` (string) and ``rooms``
    (int64), as the models of explain_models.
    """
    numbers = {
        f"x{i}": keras.Input(shape=(1,), name=f"x{i}", dtype="float32") for i in range(len(weights))
    }
    city = keras.Input(shape=(1,), name="city", dtype="string")
    rooms = keras.Input(shape=(1,), name="rooms", dtype="int64")
    numeric = keras.layers.Dense(1, name="numeric")(
        keras.layers.Concatenate()(list(numbers.values()))
    )
    city_term = keras.layers.Dense(1, use_bias=False, name="city_term")(
        keras.layers.StringLookup(vocabulary=list(CITIES), output_mode="one_hot")(city)
    )
    rooms_term = keras.layers.Dense(1, use_bias=False, name="rooms_term")(
        keras.layers.Lambda(lambda r: keras.ops.cast(r, "float32"))(rooms)
    )
    model = keras.Model(
        {**numbers, "city": city, "rooms": rooms},
        keras.layers.Add()([numeric, city_term, rooms_term]),
    )
    model.get_layer("numeric").set_weights(
        [np.array(weights, np.float32)[:, None], np.array([bias], np.float32)]
    )
    model.get_layer("city_term").set_weights(
        [np.array([[0.0]] + [[city_effects.get(c, 0.0)] for c in CITIES], np.float32)]
    )
    model.get_layer("rooms_term").set_weights([np.array([[rooms_slope]], np.float32)])
    return model
