"""The justice export (optional): arrests, bookings and charges from police or court records.

The comparison group's justice export (checks/comparison.py) has the same columns and rules,
keyed by comparison_id: the fields are made here, and the rules are justice_rules()'.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.base import AS_OF, OutcomeModel, kind, on_or_before_as_of, participant_field, passes


def event_date_field() -> object:
    return pa.Field(description="Date of the event, not after the as-of date.", metadata=kind("date"))


def event_type_field() -> object:
    return pa.Field(isin=vocab.EVENT_TYPES, description="Arrest, booking or charge.", metadata=kind("enum"))


def level_field() -> object:
    return pa.Field(
        isin=vocab.EVENT_LEVELS, description="Felony, misdemeanor, warrant or unknown.", metadata=kind("enum")
    )


def release_date_field() -> object:
    return pa.Field(
        nullable=True,
        description=(
            "For a booking, the day the person left custody: on or after the event_date, not after "
            "the as-of date; empty while still in custody or when not known (contract v2)."
        ),
        metadata=kind("date", optional=True),
    )


def justice_rules() -> type[pa.DataFrameModel]:
    """A new base model holding the rules of a justice export's event columns (the fields are its
    subclass's). Each model gets a class of its own: Pandera consumes a check's name when the
    first model inherits it, so a second model inheriting the same class would lose the names."""

    class JusticeRules(pa.DataFrameModel):
        @pa.check("event_date", name="after_as_of", error="is after the as-of date")
        def not_future(cls, data: PolarsData) -> pl.LazyFrame:
            return on_or_before_as_of(data)

        @pa.check("release_date", name="before_booking", error="is before the booking's event_date")
        def released_after_booking(cls, data: PolarsData) -> pl.LazyFrame:
            return passes(data, pl.col(data.key) >= pl.col("event_date"))

        @pa.check("release_date", name="after_as_of", error="is after the as-of date")
        def released_not_future(cls, data: PolarsData) -> pl.LazyFrame:
            return on_or_before_as_of(data)

        @pa.check(
            "release_date",
            name="release_not_booking",
            error="is given on a row that is not a booking (only a booking has a release date)",
        )
        def release_only_for_bookings(cls, data: PolarsData) -> pl.LazyFrame:
            return passes(data, pl.col("event_type") == "booking")

        class Config:
            strict = False

    return JusticeRules


class Justice(OutcomeModel, justice_rules()):
    """Justice events; key participant_id, event_date, event_type."""

    participant_id: str = participant_field()
    event_date: dt.date = event_date_field()
    event_type: str = event_type_field()
    level: str = level_field()
    release_date: dt.date = release_date_field()

    class Config:
        strict = False
        metadata = {"key": ["participant_id", "event_date", "event_type"], "as_of": AS_OF}
