"""The demo's dataset: Fair's affairs survey (1978), as shipped by statsmodels.

6,366 married women, one row each. The label ``had_affair`` is 1 when the woman reported any
time spent in extramarital affairs (32% of rows). Occupation and religiousness are categorical:
written as words, they make readable slices (``occupation = student``).
"""

from __future__ import annotations

import os

LABEL = "had_affair"
NUMERIC_FEATURES = ("rate_marriage", "age", "yrs_married", "children", "educ")
CATEGORICAL_FEATURES = ("occupation", "occupation_husb", "religious")
# The features whose values the demo's evaluation slices on.
SLICE_FEATURES = ("occupation", "religious")
CSV_FILE_NAME = "fair.csv"

# The survey's codes (statsmodels.datasets.fair.NOTE).
_OCCUPATIONS = {
    1: "student",
    2: "unskilled",
    3: "white_collar",
    4: "skilled",
    5: "managerial",
    6: "professional",
}
_RELIGIOUSNESS = {1: "not", 2: "mildly", 3: "fairly", 4: "strongly"}


def write_fair_csv(data_dir: str) -> str:
    """Writes the dataset to data_dir/fair.csv (label, numeric, categorical columns); returns the path.

    Raises:
      ImportError: statsmodels is missing (install the `demo` extra: tfx-glassbox[demo]).
    """
    try:
        from statsmodels.datasets import fair
    except ImportError as e:
        raise ImportError(
            "the demo dataset needs statsmodels: pip install 'tfx-glassbox[demo]'"
        ) from e

    raw = fair.load_pandas().data
    table = raw[list(NUMERIC_FEATURES)].copy()
    table["occupation"] = raw["occupation"].astype(int).map(_OCCUPATIONS)
    table["occupation_husb"] = raw["occupation_husb"].astype(int).map(_OCCUPATIONS)
    table["religious"] = raw["religious"].astype(int).map(_RELIGIOUSNESS)
    table.insert(0, LABEL, (raw["affairs"] > 0).astype(int))
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, CSV_FILE_NAME)
    table.to_csv(path, index=False, float_format="%.1f")
    return path
