"""The housing export: housing status assessments."""

from __future__ import annotations

import pandera.polars as pa

from checks import vocab
from checks.base import AssessmentModel, kind


class Housing(AssessmentModel):
    """Housing status assessments; key participant_id, assessed_on."""

    living_situation: str = pa.Field(
        isin=tuple(vocab.LIVING_SITUATIONS),
        description="Where the participant lives: our name or the HUD HMIS number (FY2024 list).",
        metadata=kind("living_situation"),
    )
