"""What every part of the contract is: a strict, frozen pydantic model; and the field types
its sections share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from scanium_e2e.contract.problems import says


class Section(BaseModel):
    """A part of the contract: declared as the file writes it, read by the checks as it is.

    A variant of one (a test's, the user's Alloy config's scrape job) is a
    `model_copy(update=...)`; nothing changes one in place.
    """

    # Strict: a JSON string is not a number, nor 1 a boolean; an unknown key is an error,
    # because a silently ignored expectation is a check that cannot fail.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with `update`'s fields changed (not validated, as dataclasses.replace).

        A name that is no field is refused: pydantic would add it beside the fields, and a
        variant that changes nothing is a test that cannot fail.
        """
        unknown = sorted(set(update or {}) - set(type(self).model_fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {unknown[0]!r}")
        return super().model_copy(update=update, deep=deep)


@dataclass(frozen=True)
class FromFile:
    """The validation context of a contract file; code that builds a part passes none."""

    source: str


def _as_tuple(value: Any) -> Any:
    # A JSON list is held as a tuple, so a part is frozen all the way down.
    return tuple(value) if isinstance(value, list) else value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


Text = Annotated[str, Field(min_length=1), says("must be a non-empty string.")]
Names = Annotated[
    tuple[Annotated[str, Field(min_length=1)], ...],
    BeforeValidator(_as_tuple),
    says("must be a list of non-empty strings."),
]
Numbers = Annotated[
    tuple[float, ...], BeforeValidator(_as_tuple), says("must be a list of numbers.")
]
FLAG = says("must be true or false.")
Flag = Annotated[bool, FLAG]
Reason = Annotated[str, AfterValidator(_not_blank)]
