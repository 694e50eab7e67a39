"""The one number formatter of the report's tables (landcarbon.publish.tables)."""
from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from landcarbon.publish import tables
from landcarbon.publish.tables import format_number, format_table


@pytest.mark.parametrize("value, sig, text", [
    (-0.5, 3, "\u22120.5"), (-1234.5, 3, "\u22121230"), (-123456.0, 3, "\u2212123,000"), (-3, 3, "\u22123"),
    (-0.00261, 3, "\u22120.00261"), (-1e-6, 3, "\u22121.00e\u221206"), (-0.0, 3, "0"), (np.float64(-2.5), 2, "\u22122.5"),
    (0.012345, 3, "0.0123"), (2022, 3, "2022"), (np.int64(-7), 3, "\u22127"), (float("-inf"), 3, "\u2212\u221e"),
])
def test_format_number_signs_and_figures(value, sig, text):
    assert format_number(value, sig) == text


def test_no_hyphen_minus_reaches_a_table():
    df = pd.DataFrame({"a": [-0.414, 1.5, -12.0], "name": ["x-y", "b", "c"]})
    out = format_table(df, {"name": "name", "a": ("mean error", "%")})
    assert list(out["mean error (%)"]) == ["\u22120.414", "1.5", "\u221212"]
    assert list(out["name"]) == ["x-y", "b", "c"]          # text cells keep their hyphens


def test_doctests_of_the_formatter():
    assert doctest.testmod(tables, raise_on_error=False).failed == 0
