"""The housing export: housing status assessments."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.base import AS_OF, OutcomeModel, days_after_referral, kind, on_or_before_as_of, participant_field


class Housing(OutcomeModel):
    """Housing status assessments; key participant_id, assessed_on."""

    participant_id: str = participant_field()
    assessed_on: dt.date = pa.Field(
        description="Date of the assessment: from 30 days before the referral up to the as-of date.",
        metadata=kind("date"),
    )
    living_situation: str = pa.Field(
        isin=tuple(vocab.LIVING_SITUATIONS),
        description="Where the participant lives: our name or the HUD HMIS number (FY2024 list).",
        metadata=kind("living_situation"),
    )

    @pa.check("assessed_on", name="after_as_of", error="is after the as-of date")
    def not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    @pa.check(
        "assessed_on", name="before_referral_window", error="is more than 30 days before the referral_date"
    )
    def near_referral(cls, data: PolarsData) -> pl.LazyFrame:
        return days_after_referral(data, 30)

    class Config:
        strict = False
        metadata = {"key": ["participant_id", "assessed_on"], "as_of": AS_OF}
