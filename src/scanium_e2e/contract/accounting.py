"""How the backend counts a request: its status values (`statuses`), a failed LLM call
(`failures`, `faults`) and an answer from its cache (`cache`)."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, get_args

from pydantic import Field, model_validator

from scanium_e2e.contract.fields import Flag, Section, Text
from scanium_e2e.contract.problems import says

# The faults the stub LLM can inject (`[[stub:fault=...]]`).
StubFault = Literal["429", "500", "503", "malformed"]
STUB_FAULTS: Final[tuple[str, ...]] = get_args(StubFault)

RecordedAs = Literal["error", "success", "not_recorded"]
RECORDED_AS: Final[tuple[str, ...]] = get_args(RecordedAs)


class Statuses(Section):
    """The `status` label's values for a request answered and one whose LLM call failed."""

    success: Text = "success"
    error: Text = "error"


class FaultSpec(Section):
    """The labels an injected LLM fault must get in the errors counter."""

    error_type: Text
    reason_code: Text

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, data: Any) -> Any:
        """A missing label reads like an empty one: "must be a non-empty string"."""
        if isinstance(data, dict):
            return {"error_type": None, "reason_code": None, **data}
        return data


class CacheSpec(Section):
    """The response cache: the requests counter's label that says whether it answered.

    `repeats`: how many identical requests the plan sends again after their first answer;
    the contract says each is answered from the cache (0: the backend has no cache).
    """

    label: Text = "cache_hit"
    hit: Text = "true"
    miss: Text = "false"
    repeats: Annotated[
        int,
        Field(ge=0, le=20),
        says("is {input!r}; give a whole number from 0 (no cache) to 20."),
    ] = 2


class FailureAccounting(Section):
    """How the backend accounts for a request whose LLM call failed.

    `recorded_as`: the `status` such a request gets in the requests counter and latency
    histogram: `error` (the Scanium contract), `success` (a backend that answers a 200
    fallback and counts it as one), or `not_recorded` (it counts only successes).
    `error_counter`: whether the errors counter exists and counts each failure.
    """

    recorded_as: Annotated[
        RecordedAs, says("is {input!r}; use one of " + ", ".join(RECORDED_AS) + ".")
    ] = "error"
    error_counter: Flag = True

    def deviations(self) -> list[str]:
        """What this accounting accepts that the Scanium contract does not, in words."""
        accepted = []
        if self.recorded_as == "success":
            accepted.append("injected LLM failures are counted as status=success")
        elif self.recorded_as == "not_recorded":
            accepted.append("injected LLM failures are not counted in the requests metrics")
        if not self.error_counter:
            accepted.append("the backend has no errors counter")
        return accepted
