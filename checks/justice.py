"""The justice export (optional): arrests, bookings and charges from police or court records."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.base import AS_OF, OutcomeModel, kind, on_or_before_as_of, participant_field


class Justice(OutcomeModel):
    """Justice events; key participant_id, event_date, event_type."""

    participant_id: str = participant_field()
    event_date: dt.date = pa.Field(
        description="Date of the event, not after the as-of date.", metadata=kind("date")
    )
    event_type: str = pa.Field(
        isin=vocab.EVENT_TYPES, description="Arrest, booking or charge.", metadata=kind("enum")
    )
    level: str = pa.Field(
        isin=vocab.EVENT_LEVELS, description="Felony, misdemeanor, warrant or unknown.", metadata=kind("enum")
    )

    @pa.check("event_date", name="after_as_of", error="is after the as-of date")
    def not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    class Config:
        strict = False
        metadata = {"key": ["participant_id", "event_date", "event_type"], "as_of": AS_OF}
