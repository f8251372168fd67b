"""A contract file's problems in the contract's own words.

A constraint that fails says so through `problem` or `says`, so the exit-4 message names
the key path and what is wrong, never pydantic's wording of it; `paragraph` puts every
problem of a file in one paragraph.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

from pydantic import (
    BeforeValidator,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

# How a problem's sentence is put together with its key path (see `sentence`).
AFTER_PATH: Final = "after_path"  # "`metrics.requests.type` is 'x'; use one of ..."
UNKNOWN: Final = "unknown"  # "unknown field `metrics.requests.lables`"
WHOLE: Final = "whole"  # a sentence that names its keys itself


def problem(phrase: str, *, key: str = "", form: str = AFTER_PATH) -> PydanticCustomError:
    """A validation error carrying the contract's own sentence; `key` extends its path."""
    return PydanticCustomError("contract", "{phrase}", {"phrase": phrase, "key": key, "form": form})


def says(phrase: str) -> WrapValidator:
    """Replace any failure of the annotated type by `phrase` (which may quote `{input!r}`).

    Used where one sentence says what the whole value must be ("a list of non-empty
    strings"), rather than which item of it pydantic stumbled on first.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise problem(phrase.format(input=value)) from None

    return WrapValidator(validate)


def keys_among(allowed: Collection[str]) -> BeforeValidator:
    """Refuse an object key outside `allowed`, naming it as an unknown field."""

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(str(key) for key in value if key not in allowed)
            if unknown:
                raise problem("", key=unknown[0], form=UNKNOWN)
        return value

    return BeforeValidator(check)


def not_here(phrase: str) -> BeforeValidator:
    """Refuse a field that exists only on another role, saying which role has it."""

    def refuse(value: Any) -> Any:
        raise problem(phrase)

    return BeforeValidator(refuse)


def not_null(phrase: str = "must not be null.") -> BeforeValidator:
    """Refuse an explicit JSON null where leaving the key out is how to say "none"."""

    def refuse(value: Any) -> Any:
        if value is None:
            raise problem(phrase)
        return value

    return BeforeValidator(refuse)


# Sentences for pydantic's own error types, where no `says` replaced them.
_PHRASES: Final[Mapping[str, str]] = {
    "missing": "is missing.",
    "model_type": "must be an object.",
    "model_attributes_type": "must be an object.",
    "dict_type": "must be an object.",
    "string_type": "must be a non-empty string.",
    "string_too_short": "must be a non-empty string.",
    "bool_type": "must be true or false.",
    "int_type": "must be a whole number.",
    "float_type": "must be a number.",
    "list_type": "must be a list.",
}


def sentence(error: ErrorDetails) -> str:
    """One problem, as `parse_contract` reports it (without the file's name)."""
    ctx = error.get("ctx") or {}
    loc = [*error["loc"], *([ctx["key"]] if ctx.get("key") else [])]
    path = ".".join(str(part) for part in loc)
    if error["type"] == "contract":
        phrase, form = str(ctx["phrase"]), ctx["form"]
    else:
        phrase = _PHRASES.get(error["type"], f"is not valid: {error['msg']}.")
        form = UNKNOWN if error["type"] == "extra_forbidden" else AFTER_PATH
    if form == UNKNOWN:
        return f"unknown field `{path}`"
    if form == WHOLE:
        return phrase
    if not path:
        return f"the top level {phrase}"
    return f"`{path}` {phrase}"


def paragraph(error: ValidationError) -> str:
    """Every problem pydantic found, key path first, in one paragraph."""
    problems = list(dict.fromkeys(sentence(details) for details in error.errors(include_url=False)))
    if len(problems) == 1:
        return problems[0]
    return "; ".join(text.removesuffix(".") for text in problems) + "."
