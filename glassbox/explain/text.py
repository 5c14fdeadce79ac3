"""Token attributions of texts: token occlusion, a black box over any signature parsing
tf.Examples that hold a text feature.

Each text is split on whitespace; token i's attribution is the drop of the explained class's score
when token i alone is removed (or replaced by ``mask_token``). The texts with a token removed are
made by the shared masking engine (masking.Masker): each token position is a column, each a
feature group, the removed token the one background row; positions past a text's end hold
nothing, so masking them changes nothing. The explained class is chosen as for images
(image_model.targets).

Stated accuracy: deletion fidelity, the explained class's mean score as the top-attributed
tokens are removed (in ``fidelity_steps`` fractions of each text's tokens), beside a random
order's.
"""

from __future__ import annotations

import dataclasses
from typing import List, Tuple

import numpy as np

from glassbox.explain.errors import ExplanationError
from glassbox.explain.image_model import targets
from glassbox.explain.masking import Masker
from glassbox.explain.model_function import Columns, SavedModelFunction
from glassbox.protos.explain_config_pb2 import TextInput

DEFAULT_MAX_TOKENS = 64
DEFAULT_FIDELITY_STEPS = 10
_TARGET = "\0target"  # held column of each row's target class


@dataclasses.dataclass(frozen=True)
class TokenAttributions:
    """One method's token attributions of the explained texts.

    Attributes:
      method: 'token_occlusion'.
      tokens: each row's attributed tokens.
      values: each row's attributions, one per token.
      targets: (n,) the class explained; scores: (n,) its score.
      accuracy: JSON values ('fidelity', 'max_tokens').
    """

    method: str
    tokens: Tuple[Tuple[str, ...], ...]
    values: Tuple[np.ndarray, ...]
    targets: np.ndarray
    scores: np.ndarray
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


def token_occlusion(
    function: SavedModelFunction, rows: Columns, text: TextInput, seed: int
) -> TokenAttributions:
    """Token occlusion of each row's text, with its deletion fidelity.

    Raises:
      ExplanationError: no text feature, a value that is not a text, no tokens at all.
    """
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
    # The last slot holds the tokens past max_tokens, in no group: always kept.
    columns = {
        slot: np.array(
            [(words + [""] * width)[i] for words in tokens] if i < width else tails, object
        )
        for i, slot in enumerate(scorer.slots)
    }
    columns = {**columns, **held, _TARGET: np.asarray(target, np.int64)}
    groups = [(slot, (slot,)) for slot in scorer.slots[:width]]
    background = {slot: np.array([text.mask_token], object) for slot, _ in groups}
    masker = Masker(scorer, background, groups, chunk_size=max(width + 1, 4096))
    coalitions = np.vstack([np.ones((1, width), bool), ~np.eye(width, dtype=bool)])
    values = masker.values(columns, coalitions)
    drops = values[:, :1] - values[:, 1:]
    per_row = tuple(drops[i, : len(words)] for i, words in enumerate(tokens))
    steps = text.fidelity_steps or DEFAULT_FIDELITY_STEPS
    fidelity = {"steps": steps}
    rng = np.random.default_rng(seed)
    for name, orders in (
        ("deletion", [np.argsort(-v, kind="stable") for v in per_row]),
        ("random_deletion", [rng.permutation(len(v)) for v in per_row]),
    ):
        fidelity[name] = _deletion_area(scorer, columns, tokens, orders, steps, text.mask_token)
    return TokenAttributions(
        "token_occlusion",
        tuple(tuple(words) for words in tokens),
        per_row,
        target,
        values[:, 0],
        {"max_tokens": limit, "fidelity": fidelity},
    )


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
