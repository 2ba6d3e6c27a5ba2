"""The employment export: employment and income status assessments."""

from __future__ import annotations

import pandera.polars as pa

from checks import vocab
from checks.base import AssessmentModel, kind


class Employment(AssessmentModel):
    """Employment and income assessments; key participant_id, assessed_on."""

    employment_status: str = pa.Field(
        isin=vocab.EMPLOYMENT_STATUSES,
        description="Work status at the assessment.",
        metadata=kind("enum"),
    )
    has_income: str = pa.Field(
        isin=vocab.YES_NO_UNKNOWN,
        description="Any earned income or cash benefits (SSI, SSDI, GA, TANF, pension, ...).",
        metadata=kind("enum"),
    )
