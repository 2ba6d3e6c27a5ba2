"""The participants export: one row per participant of a site."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.base import AS_OF, RACES_ERROR, adult_at, kind, on_or_before_as_of, passes, races_valid


class Participants(pa.DataFrameModel):
    """One row per participant; key participant_id, unique within the site."""

    participant_id: str = pa.Field(
        str_matches=vocab.PARTICIPANT_ID,
        description="The site's pseudonymous participant ID (letters, digits, _ and -, up to 64).",
        metadata=kind("text"),
    )
    case_manager_id: str = pa.Field(
        description="The case manager's ID in the site's system.", metadata=kind("text")
    )
    referral_date: dt.date = pa.Field(
        ge=dt.date.fromisoformat(vocab.EARLIEST_REFERRAL),
        description="Date of the referral to LEAD, 2011-01-01 up to the as-of date.",
        metadata=kind("date"),
    )
    referral_type: str = pa.Field(
        isin=vocab.REFERRAL_TYPES,
        description="The door into LEAD: arrest diversion, social contact or community referral.",
        metadata=kind("enum"),
    )
    referral_offense: str = pa.Field(
        nullable=True,
        isin=vocab.REFERRAL_OFFENSES,
        description="The offense behind the referral, if any.",
        metadata=kind("enum", optional=True),
    )
    intake_date: dt.date = pa.Field(
        nullable=True,
        description="Date of intake into case management; on or after the referral date.",
        metadata=kind("date", optional=True),
    )
    exit_date: dt.date = pa.Field(
        nullable=True,
        description="Date the participant left the program; on or after the referral date.",
        metadata=kind("date", optional=True),
    )
    exit_reason: str = pa.Field(
        nullable=True,
        isin=vocab.EXIT_REASONS,
        description="Why the participant left the program.",
        metadata=kind("enum", optional=True),
    )
    birth_year: int = pa.Field(
        description="Year of birth (not the date): age at referral must be 18 to 100.",
        metadata=kind("int"),
    )
    gender: str = pa.Field(
        isin=vocab.GENDERS, description="Gender as the participant gives it.", metadata=kind("enum")
    )
    race_ethnicity: str = pa.Field(
        description="Race and ethnicity, ;-separated when several.",
        metadata=kind("list", values=vocab.RACES),
    )

    @pa.check("referral_date", name="after_as_of", error="is after the as-of date")
    def referral_not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    @pa.check("intake_date", name="before_referral", error="is before the referral_date")
    def intake_after_referral(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, pl.col(data.key) >= pl.col("referral_date"))

    @pa.check("exit_date", name="before_referral", error="is before the referral_date")
    def exit_after_referral(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, pl.col(data.key) >= pl.col("referral_date"))

    @pa.check("birth_year", name="age_at_referral", error="gives an age at referral outside 18 to 100")
    def adult_at_referral(cls, data: PolarsData) -> pl.LazyFrame:
        return adult_at(data, "referral_date")

    @pa.check("race_ethnicity", name="allowed_values", error=RACES_ERROR)
    def known_races(cls, data: PolarsData) -> pl.LazyFrame:
        return races_valid(data)

    class Config:
        strict = False
        metadata = {"key": ["participant_id"], "as_of": AS_OF}
