"""The generator's own tables: keyed by exactly the contract's values, shares that sum to one."""

from __future__ import annotations

import pytest

from pipelines.demo import distributions
from tests.demo.exports import (
    ENUMS,
    LIVING,
    MISSING_TOKENS,
    RACES,
)


def test_generator_tables_cover_exactly_the_contract_values() -> None:
    # The generator's own knowledge (shares, durations) is keyed by value name; each table
    # must name every allowed value once and nothing else, or the data drifts from the spec.
    keyed = {
        "OFFENSE_BY_DOOR": (distributions.OFFENSE_BY_DOOR, ("participants", "referral_type")),
        "DOOR_ARREST_FACTOR": (distributions.DOOR_ARREST_FACTOR, ("participants", "referral_type")),
        "EXIT_P": (distributions.EXIT_P, ("participants", "exit_reason")),
        "EXIT_ASSESSED": (distributions.EXIT_ASSESSED, ("participants", "exit_reason")),
        "GENDER_P": (distributions.GENDER_P, ("participants", "gender")),
        "GENDER_P_SEX_WORK": (distributions.GENDER_P_SEX_WORK, ("participants", "gender")),
        "SERVICE_P": (distributions.SERVICE_P, ("treatment", "service_type")),
        "SERVICE_DAYS": (distributions.SERVICE_DAYS, ("treatment", "service_type")),
        "DISCHARGE_P": (distributions.DISCHARGE_P, ("treatment", "discharge_reason")),
        "ARREST_LEVEL_P": (distributions.ARREST_LEVEL_P, ("justice", "level")),
        "JAIL_LEVEL_P": (distributions.JAIL_LEVEL_P, ("justice", "level")),
    }
    keyed |= {
        f"OFFENSE_BY_DOOR[{door}]": (p, ("participants", "referral_offense"))
        for door, p in distributions.OFFENSE_BY_DOOR.items()
    }
    for name, (table, enum) in keyed.items():
        assert sorted(table) == sorted(ENUMS[enum]), name
    work = [*distributions.WORK_P, *distributions.OUTSIDE_WORK_SCALE]
    assert sorted(work) == sorted(ENUMS[("employment", "employment_status")])
    living = [*distributions.HOMELESS_SPLIT, *distributions.LIVING_WEIGHT]
    assert sorted(living) == sorted(LIVING)
    assert set(distributions.HOMELESS_SPLIT) == {"unsheltered", "emergency_shelter", "safe_haven"}
    assert {r for value in distributions.RACE_P for r in value.split(";")} == RACES
    assert set(distributions.NA_TOKEN_WEIGHT) == MISSING_TOKENS

    shares = [
        *distributions.OFFENSE_BY_DOOR.values(),
        distributions.EXIT_P,
        distributions.GENDER_P,
        distributions.GENDER_P_SEX_WORK,
        distributions.RACE_P,
        distributions.SERVICE_P,
        distributions.DISCHARGE_P,
        distributions.ARREST_LEVEL_P,
        distributions.JAIL_LEVEL_P,
        {k: start for k, (start, _) in distributions.WORK_P.items()},
        {k: later for k, (_, later) in distributions.WORK_P.items()},
        distributions.HOUSING_CADENCE.every,
        distributions.EMPLOYMENT_CADENCE.every,
    ]
    for p in shares:
        assert sum(p.values()) == pytest.approx(1.0), p
        assert min(p.values()) >= 0


def test_a_table_out_of_line_with_the_contract_is_refused() -> None:
    with pytest.raises(ValueError, match="missing=\\['no'\\]"):
        distributions.ordered_probs("HAS_INCOME_P", {"yes": 0.5, "unknown": 0.5}, ("yes", "no", "unknown"))
    with pytest.raises(ValueError, match="extra=\\['maybe'\\]"):
        distributions.ordered_probs("HAS_INCOME_P", {"yes": 0.5, "no": 0.4, "maybe": 0.1}, ("yes", "no"))
