"""The page's and the API's query parameters, validated in one place: anything else is a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge.centre.store import ResultQuery, instant
from edge.validation import describe_validation_error

Level = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^/#+$\s]+$")]  # an MQTT topic level


class BadParameter(ValueError):
    """A query parameter the page does not accept; the message names it."""


class ResultFilter(BaseModel):
    """Filters of the results list (all optional). ``since``/``until``: ISO 8601 (UTC when no zone is given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Level | None = None
    device: Level | None = None
    stream: Level | None = None
    engine: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")] | None = None
    q: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(None, description="Brand or product name contains this.")
    since: float | None = None
    until: float | None = None
    low: Annotated[float, Field(gt=0, le=1)] | None = Field(None, description="A field with a value below this confidence.")
    flagged: bool = Field(False, description="Only results with claim flags.")
    after: float | None = Field(None, description="Received after this epoch second (the live list asks for what is new).")
    limit: Annotated[int, Field(ge=1, le=500)] | None = None

    @field_validator("since", "until", mode="before")
    @classmethod
    def _instant(cls, value: object) -> object:
        if value is None or value == "" or isinstance(value, (int, float)):
            return value or None
        try:
            return instant(str(value))
        except ValueError:
            raise ValueError("an ISO 8601 time such as 2026-12-01T08:00:00Z") from None

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ResultFilter:
        """From a request's query string; empty values mean "not set" (an HTML form sends every field)."""
        keys = list(params.keys()) if hasattr(params, "keys") else list(params)
        if hasattr(params, "getlist"):
            twice = [key for key in keys if len(params.getlist(key)) > 1]
            if twice:
                raise BadParameter(f"{twice[0]}: given more than once")
        data = {key: params[key] for key in keys if params[key] != ""}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise BadParameter(describe_validation_error(exc, show_value=False)) from None

    def query(self, page_size: int) -> ResultQuery:
        return ResultQuery(site=self.site, device=self.device, stream=self.stream, engine=self.engine, text=self.q,
                           since=self.since, until=self.until, after=self.after, low_confidence=self.low,
                           flagged=self.flagged, limit=self.limit or page_size)

    def form_values(self) -> dict[str, str]:
        """The filters as the form shows them (times back in ISO 8601)."""
        out = {}
        for key in ("site", "device", "stream", "engine", "q"):
            value = getattr(self, key)
            out[key] = value or ""
        for key in ("since", "until"):
            value = getattr(self, key)
            out[key] = datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""
        out["low"] = "" if self.low is None else f"{self.low:g}"
        out["flagged"] = "true" if self.flagged else ""
        return out
