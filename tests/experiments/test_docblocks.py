"""Generated blocks: finding, replacing and comparing them, and the errors of a broken page."""

from __future__ import annotations

import pytest

from glassnet.experiments.docblocks import BlockError, compare, find_blocks, replace_blocks

PAGE = """# Title

Hand-written text with 3.14 in it.

<!-- generated: a -->
| model | RMSE | time |
| --- | --- | --- |
| AR | 19.44 | 0.0008 s |
<!-- end generated: a -->

More text.

<!-- generated: b.c -->
Accuracy 99.16% (3 errors, 27.6 s).
<!-- end generated: b.c -->
"""


def test_find_and_replace_keep_the_text_outside() -> None:
    blocks = find_blocks(PAGE)
    assert list(blocks) == ["a", "b.c"]
    assert blocks["b.c"].body == "Accuracy 99.16% (3 errors, 27.6 s).\n"
    new = replace_blocks(PAGE, {"b.c": "Accuracy 98.61% (5 errors, 30 s)."})
    assert "Accuracy 98.61% (5 errors, 30 s).\n<!-- end generated: b.c -->" in new
    assert new.replace("98.61% (5 errors, 30 s)", "99.16% (3 errors, 27.6 s)") == PAGE
    assert replace_blocks(PAGE, {}) == PAGE
    with pytest.raises(BlockError, match="no block named 'z'"):
        replace_blocks(PAGE, {"z": "x"})


@pytest.mark.parametrize(
    ("page", "match"),
    [
        ("<!-- generated: a -->\nx\n", "has no '<!-- end generated: a -->'"),
        ("<!-- generated: a -->\n<!-- generated: b -->\n<!-- end generated: a -->", "inside"),
        ("x\n<!-- end generated: a -->\n", "without its opening marker"),
        (
            "<!-- generated: a -->\n<!-- end generated: a -->\n<!-- generated: a -->\n"
            "<!-- end generated: a -->",
            "appears twice",
        ),
    ],
)
def test_broken_markers_are_errors(page: str, match: str) -> None:
    with pytest.raises(BlockError, match=match):
        find_blocks(page)


def test_compare_numbers_within_tolerance_and_skips_wall_times() -> None:
    body = find_blocks(PAGE)["a"].body
    assert compare(body, body) == []
    assert compare(body, body.replace("0.0008 s", "12 s")) == []  # a wall time: never compared
    assert compare(body, body.replace("19.44", "19.45"), rtol=1e-3) == []
    assert compare(body, body.replace("19.44", "19.47"), rtol=1e-3) == [
        "line 3: documented 19.44, measured 19.47"
    ]
    assert compare("1.5e-14", "4e-15", atol=1e-12) == []
    assert compare("1.5e-14", "4e-15") != []


def test_compare_reports_changed_text_and_layout() -> None:
    assert compare("| AR | 1 |", "| MLP | 1 |")[0].startswith("line 1: documented text")
    assert compare("a 1 b 2", "a 1 b")  # a number went missing
    assert compare("inf", "inf") == [] and compare("inf", "1e300") != []
    assert compare("nan", "nan") == [] and compare("r_10 = 0.5", "r_10 = 0.5") == []
    # a digit inside a word is text, not a number: r_10 vs r_11 is a text change
    assert compare("r_10 = 0.5", "r_11 = 0.5")[0].startswith("line 1: documented text")


def test_numbers_at_the_end_of_a_sentence_are_numbers() -> None:
    assert compare("was 19.44.", "was 19.45.", rtol=1e-3) == []
    assert compare("was 19.44.", "was 20.", rtol=1e-3) == ["line 1: documented 19.44, measured 20"]
