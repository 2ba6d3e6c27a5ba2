"""What every export model shares: helper columns the pipeline adds, and their checks.

Before validation the pipeline adds helper columns to each export:
`_as_of` (the run's as-of date) to every table, and to the outcome tables
`_referral_date` and `_participant` ("loaded", "quarantined", or null when the
site's participants export has no such participant).
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.labels import with_code

AS_OF = "_as_of"
REFERRAL_DATE = "_referral_date"
PARTICIPANT_STATE = "_participant"


def kind(name: str, **extra: object) -> dict[str, object]:
    """Field metadata: how the reader parses a column's text (text, date, int, enum, list...)."""
    return {"kind": name, **extra}


def passes(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    """A check result: true where the rule holds or the value is missing (required is separate)."""
    return data.lazyframe.select(expr | pl.col(data.key).is_null())


def on_or_before_as_of(data: PolarsData) -> pl.LazyFrame:
    return passes(data, pl.col(data.key) <= pl.col(AS_OF))


def days_after_referral(data: PolarsData, days: int) -> pl.LazyFrame:
    limit = pl.col(REFERRAL_DATE) - dt.timedelta(days=days)
    return passes(data, (pl.col(data.key) >= limit) | pl.col(REFERRAL_DATE).is_null())


def adult_at(data: PolarsData, date_column: str) -> pl.LazyFrame:
    """A birth_year check: the age in `date_column`'s year is 18 to 100."""
    age = pl.col(date_column).dt.year() - pl.col(data.key)
    return passes(data, age.is_between(18, 100) | age.is_null())


def races_valid(data: PolarsData) -> pl.LazyFrame:
    """A race_ethnicity check: a ;-separated list of the contract's races."""
    parts = pl.col(data.key).str.split(";")
    return passes(data, parts.list.eval(pl.element().is_in(vocab.RACES)).list.all())


RACES_ERROR = "is not a ;-separated list of: " + ", ".join(with_code("race", race) for race in vocab.RACES)


def person_known(data: PolarsData) -> pl.LazyFrame:
    """An outcome row's person is in the site's person export (loaded or quarantined)."""
    return passes(data, pl.col(PARTICIPANT_STATE).is_not_null())


def person_loaded(data: PolarsData) -> pl.LazyFrame:
    """An outcome row's person row was not quarantined (an unknown person is another rule's)."""
    state = pl.col(PARTICIPANT_STATE)
    return data.lazyframe.select(state.is_null() | (state == "loaded"))


def participant_field() -> object:
    """The participant_id column of an outcome export."""
    return pa.Field(
        description="A participant_id of the same site's participants export.", metadata=kind("text")
    )


class OutcomeModel(pa.DataFrameModel):
    """An outcome export: each row belongs to a loaded participant of the same site."""

    @pa.check("participant_id", name="unknown_participant", error="is not in this site's participants export")
    def unknown_participant(cls, data: PolarsData) -> pl.LazyFrame:
        return person_known(data)

    @pa.check(
        "participant_id",
        name="participant_quarantined",
        error="has its participants row quarantined; fix that row first",
    )
    def participant_quarantined(cls, data: PolarsData) -> pl.LazyFrame:
        return person_loaded(data)

    class Config:
        strict = False


class AssessmentModel(OutcomeModel):
    """A status assessment export (housing, employment): key participant_id, assessed_on."""

    participant_id: str = participant_field()
    assessed_on: dt.date = pa.Field(
        description="Date of the assessment: from 30 days before the referral up to the as-of date.",
        metadata=kind("date"),
    )

    @pa.check("assessed_on", name="after_as_of", error="is after the as-of date")
    def after_as_of(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    @pa.check(
        "assessed_on", name="before_referral_window", error="is more than 30 days before the referral_date"
    )
    def before_referral_window(cls, data: PolarsData) -> pl.LazyFrame:
        return days_after_referral(data, 30)

    class Config:
        strict = False
        metadata = {"key": ["participant_id", "assessed_on"], "as_of": AS_OF}
