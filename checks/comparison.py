"""The comparison-group exports (optional, contract v2): people who were eligible for LEAD but
not referred, and their justice events, for the impact evaluation.

`comparison` is a person table of its own, like participants; its `comparison_id`s are a
namespace of their own (a comparison_id equal to some participant_id is another person).
`comparison_justice` holds the justice columns keyed by comparison_id; a row of a comparison_id
the site's comparison export does not hold is quarantined, as an outcome row of an unknown
participant is.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks import vocab
from checks.base import (
    AS_OF,
    RACES_ERROR,
    adult_at,
    kind,
    on_or_before_as_of,
    person_known,
    person_loaded,
    races_valid,
)
from checks.justice import event_date_field, event_type_field, justice_rules, level_field, release_date_field


class Comparison(pa.DataFrameModel):
    """People who were eligible for LEAD but not referred (the comparison group of the impact
    evaluation), one row per person; key comparison_id, unique within the site. Send it only if
    the program keeps such a list (e.g. eligible arrests on shifts or in areas without LEAD); a
    site without it simply has no comparison. No names or dates of birth: IDs of its own."""

    comparison_id: str = pa.Field(
        str_matches=vocab.PARTICIPANT_ID,
        description=(
            "The site's pseudonymous ID of the person (letters, digits, _ and -, up to 64); its own "
            "namespace: it never names a participant."
        ),
        metadata=kind("text"),
    )
    index_date: dt.date = pa.Field(
        ge=dt.date.fromisoformat(vocab.EARLIEST_REFERRAL),
        description=(
            "Date of the eligible police contact or arrest that did not lead to a referral: "
            "2011-01-01 up to the as-of date."
        ),
        metadata=kind("date"),
    )
    index_offense: str = pa.Field(
        nullable=True,
        isin=vocab.REFERRAL_OFFENSES,
        description="The offense behind the contact or arrest, if any (the referral-offense list).",
        metadata=kind("enum", optional=True),
    )
    birth_year: int = pa.Field(
        description="Year of birth (not the date): age at the index date must be 18 to 100.",
        metadata=kind("int"),
    )
    gender: str = pa.Field(isin=vocab.GENDERS, description="Gender as recorded.", metadata=kind("enum"))
    race_ethnicity: str = pa.Field(
        description="Race and ethnicity, ;-separated when several.",
        metadata=kind("list", values=vocab.RACES),
    )
    not_referred_reason: str = pa.Field(
        isin=vocab.NOT_REFERRED_REASONS,
        description=(
            "Why the person was not referred: not on an eligible shift, outside the program's area, "
            "declined, other or unknown."
        ),
        metadata=kind("enum"),
    )

    @pa.check("index_date", name="after_as_of", error="is after the as-of date")
    def index_not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return on_or_before_as_of(data)

    @pa.check("birth_year", name="age_at_index", error="gives an age at the index date outside 18 to 100")
    def adult_at_index(cls, data: PolarsData) -> pl.LazyFrame:
        return adult_at(data, "index_date")

    @pa.check("race_ethnicity", name="allowed_values", error=RACES_ERROR)
    def known_races(cls, data: PolarsData) -> pl.LazyFrame:
        return races_valid(data)

    class Config:
        strict = False
        metadata = {"key": ["comparison_id"], "as_of": AS_OF, "person": "comparison_id"}


class ComparisonOutcome(pa.DataFrameModel):
    """A comparison-group outcome export: each row belongs to a loaded person of the same site's
    comparison export. Before validation the pipeline adds PARTICIPANT_STATE from that export
    ("loaded", "quarantined", or null for an unknown comparison_id), as it does for the
    participants' outcome tables."""

    @pa.check("comparison_id", name="unknown_comparison", error="is not in this site's comparison export")
    def unknown_comparison(cls, data: PolarsData) -> pl.LazyFrame:
        return person_known(data)

    @pa.check(
        "comparison_id",
        name="comparison_quarantined",
        error="has its comparison row quarantined; fix that row first",
    )
    def comparison_quarantined(cls, data: PolarsData) -> pl.LazyFrame:
        return person_loaded(data)

    class Config:
        strict = False


class ComparisonJustice(ComparisonOutcome, justice_rules()):
    """The comparison group's arrests, bookings and charges: the justice export's columns and
    rules, keyed by comparison_id; key comparison_id, event_date, event_type."""

    comparison_id: str = pa.Field(
        description="A comparison_id of the same site's comparison export.", metadata=kind("text")
    )
    event_date: dt.date = event_date_field()
    event_type: str = event_type_field()
    level: str = level_field()
    release_date: dt.date = release_date_field()

    class Config:
        strict = False
        metadata = {
            "key": ["comparison_id", "event_date", "event_type"],
            "as_of": AS_OF,
            "person": "comparison_id",
            "people": "comparison",
        }
