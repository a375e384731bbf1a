"""The A1111 ``parameters`` text: the recipe form AUTOMATIC1111, Forge and others read.

The text is the prompt, then optionally a ``Negative prompt: ...`` line, then one line of
``Key: value`` pairs separated by commas (``Steps: 28, CFG scale: 3.5, Seed: 42, ...``).
A value holding a comma, colon, newline or leading quote is written as a JSON string.
Both functions here are pure: text in, text or recipe out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Final

from .model import Recipe

__all__ = ["GENERATOR", "format_parameters", "parse_pairs", "parse_parameters"]

GENERATOR: Final = "friendli-images"
"""The name in the ``Generator`` field; ``Generator: friendli-images 0.1.0``."""

_NEGATIVE: Final = "Negative prompt:"
# One "Key: value" pair: a key of word characters, spaces, dashes, slashes and dots; a
# value that is a JSON string, or anything up to the next comma.
_PAIR: Final = re.compile(r'\s*(\w[\w \-/.]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_MIN_PAIRS: Final = 3
"""A last line is the parameters line only with at least this many pairs (as A1111 reads)."""


def _quote(value: str) -> str:
    if any(character in value for character in ",:\n\r") or value.startswith('"'):
        return json.dumps(value, ensure_ascii=False)
    return value


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def format_parameters(recipe: Recipe) -> str:
    """``recipe`` as an A1111 ``parameters`` text.

    Only fields that are set are written; ``Operation``, ``Generator`` and ``Created``
    always are, so the last line is always recognised as the parameters line.
    """
    pairs: list[tuple[str, str]] = []
    if recipe.num_inference_steps is not None:
        pairs.append(("Steps", str(recipe.num_inference_steps)))
    if recipe.guidance_scale is not None:
        pairs.append(("CFG scale", _number(recipe.guidance_scale)))
    if recipe.seed is not None:
        pairs.append(("Seed", str(recipe.seed)))
    if recipe.model is not None:
        pairs.append(("Model", recipe.model))
    if recipe.response_format is not None:
        pairs.append(("Response format", recipe.response_format))
    if recipe.controlnet_weights is not None:
        weights = ", ".join(_number(weight) for weight in recipe.controlnet_weights)
        pairs.append(("ControlNet weights", f"[{weights}]"))
    pairs.append(("Operation", recipe.operation))
    if recipe.api is not None:
        pairs.append(("API", recipe.api))
    if recipe.team_id is not None:
        pairs.append(("Team", recipe.team_id))
    pairs.append(("Generator", f"{GENERATOR} {recipe.library_version or ''}".strip()))
    pairs.append(("Created", recipe.created or ""))
    line = ", ".join(f"{key}: {_quote(value)}" for key, value in pairs)
    return f"{recipe.prompt}\n{line}"


def parse_pairs(line: str) -> dict[str, str] | None:
    """The ``Key: value`` pairs of a parameters line, or ``None`` if it is not one.

    A line is one when it is made of pairs only and has at least three of them.
    """
    pairs: dict[str, str] = {}
    position = 0
    stripped = line.rstrip()
    while position < len(stripped):
        match = _PAIR.match(stripped, position)
        if match is None or match.end() == position:
            return None
        key, value = match.group(1).strip(), match.group(2).strip()
        if value.startswith('"'):
            try:
                value = str(json.loads(value))
            except ValueError:
                return None
        pairs[key] = value
        position = match.end()
    return pairs if len(pairs) >= _MIN_PAIRS else None


def parse_parameters(text: str) -> Recipe | None:
    """The recipe in an A1111 ``parameters`` text; ``None`` if the text has no prompt.

    Known keys become fields (``Steps``, ``CFG scale``, ``Seed``, ``Model``, ...); a
    value that does not parse, and every other key (``Sampler``, ``Negative prompt``),
    goes into ``extra`` as text.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    pairs: dict[str, str] = {}
    if len(lines) > 1:
        found = parse_pairs(lines[-1])
        if found is not None:
            pairs = found
            lines = lines[:-1]
    extra: dict[str, str] = {}
    negative = [i for i, line in enumerate(lines) if line.startswith(_NEGATIVE)]
    if negative:
        first = negative[0]
        extra["Negative prompt"] = "\n".join(lines[first:])[len(_NEGATIVE) :].strip()
        lines = lines[:first]
    prompt = "\n".join(lines)
    if not prompt.strip():
        return None
    return _recipe(prompt, pairs, extra)


def _recipe(prompt: str, pairs: Mapping[str, str], extra: dict[str, str]) -> Recipe:
    """The fields of ``pairs`` this library knows; the rest (and what does not parse) in
    ``extra``."""
    operation = pairs.get("Operation")
    generator = pairs.get("Generator", "")
    name, _, version = generator.partition(" ")
    fields: dict[str, object] = {
        "Steps": _int(pairs.get("Steps")),
        "CFG scale": _float(pairs.get("CFG scale")),
        "Seed": _int(pairs.get("Seed")),
        "ControlNet weights": _weights(pairs.get("ControlNet weights")),
        "Operation": operation if operation in ("generate", "edit") else None,
        "Generator": generator if name == GENERATOR else None,
        **{key: pairs.get(key) for key in ("Model", "Response format", "API", "Team", "Created")},
    }
    extra.update((key, value) for key, value in pairs.items() if fields.get(key) is None)
    steps, guidance, seed = fields["Steps"], fields["CFG scale"], fields["Seed"]
    assert steps is None or isinstance(steps, int)
    assert guidance is None or isinstance(guidance, float)
    assert seed is None or isinstance(seed, int)
    return Recipe(
        prompt=prompt,
        model=pairs.get("Model"),
        seed=seed,
        num_inference_steps=steps,
        guidance_scale=guidance,
        response_format=pairs.get("Response format"),
        controlnet_weights=_weights(pairs.get("ControlNet weights")),
        operation="edit" if operation == "edit" else "generate",
        api=pairs.get("API"),
        team_id=pairs.get("Team"),
        library_version=(version or None) if name == GENERATOR else None,
        created=pairs.get("Created") or None,
        source="a1111",
        extra=extra,
    )


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _weights(value: str | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    inner = value.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        return None
    parts = [part.strip() for part in inner[1:-1].split(",") if part.strip()]
    numbers = [_float(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    return tuple(number for number in numbers if number is not None)
