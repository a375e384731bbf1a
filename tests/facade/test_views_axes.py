"""Sweep axes: the spellings of values, cell order and cell names (pure rules, tables)."""

from __future__ import annotations

from typing import Any

import pytest
from friendli_images import Axis, InvalidRequestError, build_sweep
from friendli_images._views.axes import cell, cell_count, cell_key, parse_values, value_token


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("seed", "1..4", [1, 2, 3, 4]),
        ("seed", " 3 .. 3 ", [3]),
        ("seed", "-2..0", [-2, -1, 0]),
        ("seed", "10,20,30", [10, 20, 30]),
        ("seed", "7", [7]),
        ("num_inference_steps", "10, 20,30", [10, 20, 30]),
        ("guidance_scale", "3,5,7.5", [3.0, 5.0, 7.5]),
        ("guidance_scale", "3..5", [3.0, 4.0, 5.0]),
        ("guidance_scale", "1e-1", [0.1]),
        ("model", "ep-a,ep-b", ["ep-a", "ep-b"]),
        ("response_format", "png", ["png"]),
    ],
)
def test_parse_values(field: str, text: str, expected: list[Any]) -> None:
    assert expected == list(parse_values(field, text))


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("seed", "4..1", "ends before it starts"),
        ("seed", "1..2x", "is not an integer"),
        ("seed", "1.5", "is not an integer"),
        ("seed", "1,,2", "empty value"),
        ("seed", "", "empty value"),
        ("seed", "1,2,1", "given twice"),
        ("guidance_scale", "3,3.0", "given twice"),
        ("guidance_scale", "nan", "not finite"),
        ("guidance_scale", "inf,1", "not finite"),
        ("guidance_scale", "a", "is not a number"),
        ("model", "a,a", "given twice"),
    ],
)
def test_parse_values_rejects(field: str, text: str, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        parse_values(field, text)


def test_a_range_stays_lazy() -> None:
    """``0..10**12`` costs nothing until it is walked: a range, counted without a list."""
    values = parse_values("seed", f"0..{10**12}")
    assert isinstance(values, range)
    axes = [Axis("seed", values), Axis("guidance_scale", [3, 7])]
    assert 2 * (10**12 + 1) == cell_count(axes)
    assert (10**12, 1) == cell(axes, cell_count(axes) - 1)


@pytest.mark.parametrize(
    ("value", "index", "token"),
    [
        (1, 0, "1"),
        (-2, 0, "m2"),
        (3.0, 0, "3"),
        (7.5, 0, "7p5"),
        (-0.25, 0, "m0p25"),
        (1e-05, 0, "1em05"),
        (1e20, 0, "1e20"),
        ("a lighthouse", 4, "4"),
        (True, 1, "1"),
    ],
)
def test_value_token(value: Any, index: int, token: str) -> None:
    assert token == value_token(value, index)


def test_cells_first_axis_fastest_and_keys() -> None:
    axes = [Axis("seed", range(1, 4)), Axis("guidance_scale", [3.0, 7.5])]
    order = [cell(axes, i) for i in range(cell_count(axes))]
    assert [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)] == order
    keys = [cell_key(axes, indexes) for indexes in order]
    assert "seed1-guidance3" == keys[0]
    assert "seed3-guidance7p5" == keys[-1]
    assert len(set(keys)) == len(keys)
    assert "sweep" == cell_key([], ())


def test_long_keys_fall_back_to_indexes() -> None:
    axes = [Axis(f"field_number_{n:02d}", ["x", "y"]) for n in range(8)]
    key = cell_key(axes, [1] * 8)
    assert key == "c" + "-".join(["1"] * 8)
    assert len(key) <= 100


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "needs a value"),
        ([1, 1], "given twice"),
        ("1..3", "must be a list"),
        (5, "must be a list"),
    ],
)
def test_axis_rejects(values: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        Axis("seed", values)


def test_axis_is_immutable_and_compares_by_value() -> None:
    axis = Axis("seed", [1, 2])
    assert Axis("seed", (1, 2)) == axis
    assert Axis("seed", range(1, 3)) == axis
    assert "seed=2" == axis.label(1)
    with pytest.raises(AttributeError):
        axis.field = "steps"


class TestBuildSweep:
    def test_jobs_and_description(self) -> None:
        sweep = build_sweep(
            "a lighthouse", model="ep", axes={"seed": "1..3", "guidance_scale": "3,7"}
        )
        assert 6 == len(sweep) == sweep.images
        assert "6 images: seed (3) x guidance (2)" == sweep.describe()
        jobs = list(sweep.jobs())
        assert (
            "seed1-guidance3",
            {"prompt": "a lighthouse", "model": "ep", "seed": 1, "guidance_scale": 3.0},
        ) == jobs[0]
        assert {job_id for job_id, _ in jobs} == {
            f"seed{s}-guidance{g}" for s in (1, 2, 3) for g in (3, 7)
        }

    def test_prompt_axis(self) -> None:
        sweep = build_sweep(model="ep", axes={"prompt": ["a", "b"], "seed": [1]})
        assert [("prompt0-seed1", "a"), ("prompt1-seed1", "b")] == [
            (job_id, request["prompt"]) for job_id, request in sweep.jobs()
        ]

    def test_no_axis_is_one_image(self) -> None:
        sweep = build_sweep("a", model="ep", axes={})
        assert [("sweep", {"prompt": "a", "model": "ep"})] == list(sweep.jobs())
        assert "1 image" == sweep.describe()

    @pytest.mark.parametrize(
        ("prompt", "axes", "fixed", "message"),
        [
            (None, {"seed": [1]}, {}, "needs a prompt"),
            ("a", {"prompt": ["b"]}, {}, "give the prompt once"),
            ("a", {"seed": [1]}, {"seed": 2}, "both an axis and a fixed value"),
            ("a", [1, 2], {}, "mapping of field"),
            ("a", {"seed": "x"}, {}, "is not an integer"),
            ("a", {"Bad Field": [1]}, {}, "is not a request field"),
        ],
    )
    def test_rejects(
        self, prompt: str | None, axes: Any, fixed: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(InvalidRequestError, match=message):
            build_sweep(prompt, axes=axes, **fixed)
