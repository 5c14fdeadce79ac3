"""Token attributions of texts: token occlusion and token Shapley values, black boxes over any
signature parsing tf.Examples that hold a text feature.

Each text is split on whitespace; token i's occlusion is the drop of the explained class's score
when token i alone is removed (or replaced by ``mask_token``); its Shapley value averages that drop
over the coalitions of the other tokens (exact or KernelSHAP, shapley.shapley_values). The masked
texts are made by the shared masking engine (masking.Masker): each token position is a column,
each a feature group, the removed token the one background row; positions past a text's end hold
nothing, so masking them changes nothing. The explained class is chosen as for images
(image_model.targets).

Stated accuracy: for Shapley values the efficiency gap; for both, deletion fidelity, the explained
class's mean score as the top-attributed tokens are removed (in ``fidelity_steps`` fractions of
each text's tokens), beside a random order's.
"""

from __future__ import annotations

import dataclasses
from typing import List, NamedTuple, Tuple

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.image_model import predicted_classes, targets
from glassbox.explain.masking import Masker
from glassbox.explain.model_function import Columns, SavedModelFunction
from glassbox.explain.shapley import shapley_values
from glassbox.protos.explain_config_pb2 import TextInput, TokenOcclusion, TokenShapley

DEFAULT_MAX_TOKENS = 64
DEFAULT_FIDELITY_STEPS = 10
_TARGET = "\0target"  # held column of each row's target class


@dataclasses.dataclass(frozen=True)
class TokenAttributions:
    """One method's token attributions of the explained texts.

    Attributes:
      method: 'token_occlusion', 'token_shapley' or 'text_integrated_gradients'.
      tokens: each row's attributed tokens.
      values: each row's attributions, one per token.
      targets: (n,) the class explained; scores: (n,) its score.
      predicted: (n,) the class the model predicts (image_model.predicted_classes).
      accuracy: JSON values ('fidelity', 'max_tokens', the method's own).
    """

    method: str
    tokens: Tuple[Tuple[str, ...], ...]
    values: Tuple[np.ndarray, ...]
    targets: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray
    accuracy: dict


def _texts(rows: Columns, feature: str) -> List[str]:
    if not feature:
        raise ExplanationError(
            "ExplainConfig field 'text.feature' is empty: name the feature holding the texts"
        )
    if feature not in rows:
        raise ExplanationError(
            f"the explained rows lack the text feature {feature!r} (ExplainConfig field "
            f"'text.feature'); they have {sorted(rows)}"
        )
    texts = []
    for i, value in enumerate(rows[feature]):
        if not isinstance(value, (bytes, str)):
            raise ExplanationError(f"row {i}: feature {feature!r} holds {value!r}, not a text")
        texts.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
    return texts


class _Scorer:
    """Scores of texts given as token columns (held features and target kept)."""

    def __init__(self, function: SavedModelFunction, feature: str, width: int, held: Columns):
        self.function, self.feature, self.width = function, feature, width
        self.slots = [f"{i}" for i in range(width)]
        self.held = held

    def __call__(self, columns: Columns) -> np.ndarray:
        tokens = np.stack([columns[slot] for slot in self.slots], axis=1)
        texts = np.array(
            [" ".join(token for token in row if token).encode() for row in tokens], object
        )
        rest = {key: columns[key] for key in self.held}
        outputs = self.function.outputs({**rest, self.feature: texts})
        return outputs[np.arange(len(texts)), columns[_TARGET].astype(int)]


class TokenGame(NamedTuple):
    """The texts as the masking engine plays them: each row's attributed tokens, its explained
    class, its score and its predicted class, the scorer, the rows' token columns (slot i: token
    i, the last slot the tokens past max_tokens, held), a group per attributed slot, and the
    background (each slot's mask token)."""

    tokens: List[List[str]]
    target: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray
    scorer: "_Scorer"
    columns: Columns
    groups: List[Tuple[str, Tuple[str, ...]]]
    background: Columns


def token_game(function: SavedModelFunction, rows: Columns, text: TextInput) -> TokenGame:
    texts = _texts(rows, text.feature)
    limit = text.max_tokens or DEFAULT_MAX_TOKENS
    split = [t.split() for t in texts]
    tokens = [words[:limit] for words in split]
    tails = [" ".join(words[limit:]) for words in split]
    width = max(len(words) for words in tokens)
    if width == 0:
        raise ExplanationError(f"the texts of feature {text.feature!r} hold no tokens")
    held = {key: np.asarray(values) for key, values in rows.items() if key != text.feature}
    outputs = function.outputs(
        {**held, text.feature: np.array([t.encode() for t in texts], object)}
    )
    target = targets(outputs, function.class_index)
    scorer = _Scorer(function, text.feature, width + 1, held)
    columns = {
        slot: np.array(
            [(words + [""] * width)[i] for words in tokens] if i < width else tails, object
        )
        for i, slot in enumerate(scorer.slots)
    }
    columns = {**columns, **held, _TARGET: np.asarray(target, np.int64)}
    groups = [(slot, (slot,)) for slot in scorer.slots[:width]]
    background = {slot: np.array([text.mask_token], object) for slot, _ in groups}
    return TokenGame(
        tokens,
        target,
        outputs[np.arange(len(texts)), target],
        predicted_classes(outputs),
        scorer,
        columns,
        groups,
        background,
    )


def token_attributions(
    method: str, game: TokenGame, values: np.ndarray, text: TextInput, seed: int, accuracy: dict
) -> TokenAttributions:
    """The rows' values (rows, width) as TokenAttributions, with their deletion fidelity."""
    per_row = tuple(values[i, : len(words)] for i, words in enumerate(game.tokens))
    steps = text.fidelity_steps or DEFAULT_FIDELITY_STEPS
    fidelity = {"steps": steps}
    rng = np.random.default_rng(seed)
    for name, orders in (
        ("deletion", [np.argsort(-v, kind="stable") for v in per_row]),
        ("random_deletion", [rng.permutation(len(v)) for v in per_row]),
    ):
        fidelity[name] = _deletion_area(
            game.scorer, game.columns, game.tokens, orders, steps, text.mask_token
        )
    return TokenAttributions(
        method,
        tuple(tuple(words) for words in game.tokens),
        per_row,
        game.target,
        game.scores,
        game.predicted,
        {"max_tokens": text.max_tokens or DEFAULT_MAX_TOKENS, **accuracy, "fidelity": fidelity},
    )


def token_occlusion(
    function: SavedModelFunction, rows: Columns, text: TextInput, options: TokenOcclusion, seed: int
) -> TokenAttributions:
    """Token occlusion of each row's text, with its deletion fidelity.

    Raises:
      ExplanationError: no text feature, a value that is not a text, no tokens at all.
    """
    del options  # no settings of its own
    game = token_game(function, rows, text)
    width = len(game.groups)
    masker = Masker(game.scorer, game.background, game.groups, chunk_size=max(width + 1, 4096))
    coalitions = np.vstack([np.ones((1, width), bool), ~np.eye(width, dtype=bool)])
    values = masker.values(game.columns, coalitions)
    return token_attributions(
        "token_occlusion", game, values[:, :1] - values[:, 1:], text, seed, {}
    )


def token_shapley(
    function: SavedModelFunction, rows: Columns, text: TextInput, options: TokenShapley, seed: int
) -> TokenAttributions:
    """Shapley values of each row's tokens (shapley.shapley_values: exact up to
    options.shapley.max_exact_features tokens, KernelSHAP beyond), with the efficiency gap
    (max |sum of a row's values - (f(text) - f(every token masked))|) and deletion fidelity.

    Raises:
      ExplanationError: as token_occlusion, or a Shapley setting out of range.
    """
    game = token_game(function, rows, text)
    slots = [slot for slot, _ in game.groups]
    calls = [0]

    def scorer(columns: Columns) -> np.ndarray:
        calls[0] += len(columns[_TARGET])
        return game.scorer(columns)

    result = shapley_values(
        scorer, game.columns, game.background, game.groups, options.shapley, seed, None, slots
    )
    empty = Masker(scorer, game.background, game.groups).values(
        game.columns, np.zeros((1, len(slots)), bool)
    )[:, 0]
    gap = np.abs(result.values.sum(axis=1) - (result.predictions - empty))
    accuracy = {
        "algorithm": result.method,
        "model_calls_per_text": calls[0] / len(game.tokens),
        "max_efficiency_gap": float(gap.max()),
        "max_standard_error": float(result.standard_errors.max()),
    }
    return token_attributions("token_shapley", game, result.values, text, seed, accuracy)


def _deletion_area(scorer, columns, tokens, orders, steps, mask_token) -> float:
    """Mean over rows of the area under the score as fractions 0..1 of the tokens are removed
    in each row's order."""
    fractions = np.linspace(0, 1, steps + 1)
    stepped = {key: [] for key in columns}
    for i, (words, order) in enumerate(zip(tokens, orders)):
        for fraction in fractions:
            removed = set(order[: int(round(fraction * len(words)))].tolist())
            for key, values in columns.items():
                slot = int(key) if key in scorer.slots[:-1] else None
                value = values[i]
                if slot is not None and slot in removed:
                    value = mask_token
                stepped[key].append(value)
    scores = scorer(
        {key: np.array(values, dtype=columns[key].dtype) for key, values in stepped.items()}
    )
    curve = scores.reshape(len(tokens), steps + 1)
    return float(np.mean((curve[:, 1:] + curve[:, :-1]) / 2))
