"""The treatment export: substance use and mental health treatment episodes."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.base import (
    AS_OF,
    OutcomeModel,
    days_after_referral,
    kind,
    on_or_before_as_of,
    participant_field,
    passes,
)


class Treatment(OutcomeModel):
    """Treatment episodes; key episode_id, unique within the site."""

    episode_id: str = pa.Field(
        description="The site's ID of the treatment episode, unique within the site.",
        metadata=kind("text"),
    )
    participant_id: str = participant_field()
    service_type: str = pa.Field(
        isin=vocab.SERVICE_TYPES, description="Kind of treatment service.", metadata=kind("enum")
    )
    start_date: dt.date = pa.Field(
        description="Start of the episode: from 365 days before the referral up to the as-of date.",
        metadata=kind("date"),
    )
    end_date: dt.date = pa.Field(
        nullable=True,
        description=(
            "End of the episode (empty while it goes on): on or after start_date, not after the as-of date."
        ),
        metadata=kind("date", optional=True),
    )
    discharge_reason: str = pa.Field(
        nullable=True,
        isin=vocab.DISCHARGE_REASONS,
        description="Why the episode ended (SAMHSA TEDS reasons 1-7); required when end_date is set.",
        metadata=kind("enum", optional=True),
    )

    @pa.check("start_date", name="after_as_of", error="is after the as-of date")
    def start_not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    @pa.check(
        "start_date", name="before_referral_window", error="is more than 365 days before the referral_date"
    )
    def near_referral(cls, data: PolarsData) -> pl.LazyFrame:
        return days_after_referral(data, 365)

    @pa.check("end_date", name="before_start", error="is before the start_date")
    def ends_after_start(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, pl.col(data.key) >= pl.col("start_date"))

    @pa.check("end_date", name="after_as_of", error="is after the as-of date")
    def end_not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    @pa.check("discharge_reason", name="required_with_end_date", error="is missing, but end_date is set")
    def reason_when_ended(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_not_null() | pl.col("end_date").is_null())

    class Config:
        strict = False
        metadata = {"key": ["episode_id"], "as_of": AS_OF}
