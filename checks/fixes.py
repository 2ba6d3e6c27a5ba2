"""How a data coordinator fixes each kind of problem, in plain words, by rule."""

from __future__ import annotations

FIXES: dict[str, str] = {
    "ragged_row": (
        "Open the file and look at this row: it has more or fewer values than the header. A value "
        "that holds a comma needs quotes; otherwise remove the extra comma or fill the missing cell."
    ),
    "required": "Fill in this value in the case-management system, then export again.",
    "allowed_values": (
        "Use one of the allowed values listed in the data dictionary (`outcomes contract`); "
        "map your system's label to ours in the export."
    ),
    "format": "Use only letters, digits, _ and - in the ID (no spaces), at most 64 characters.",
    "range": "Check the date: referrals before 2011-01-01 are outside the program's data.",
    "encoding": (
        "Retype the characters shown as \ufffd in the case-management system (they were saved in "
        "another encoding than the rest of the file, e.g. pasted from an older program), then export "
        "again as CSV UTF-8."
    ),
    "date_format": "Write the date as YYYY-MM-DD or MM/DD/YYYY (or keep it as an Excel date cell).",
    "whole_number": "Write a whole number, e.g. the year of birth as 1980.",
    "after_as_of": "The date is in the future: check for a typing error (day and month swapped?).",
    "before_referral": "The date falls before the referral date: correct one of the two dates.",
    "before_referral_window": "The date is long before the referral: check it, or the referral date.",
    "before_start": "The end date falls before the start date: correct one of the two dates.",
    "before_booking": "The release date falls before the booking date: correct one of the two dates.",
    "release_not_booking": (
        "Only a booking has a release date: leave release_date empty on arrests and charges (or "
        "correct the event_type if the row is a booking)."
    ),
    "age_at_referral": "Check the year of birth: the age at referral must be 18 to 100.",
    "required_with_end_date": "Give the discharge reason of an episode that has an end date.",
    "conflicting_duplicate": (
        "Several rows share this key but differ: keep the right one in the source system and "
        "remove or correct the others, then export again."
    ),
    "unknown_participant": (
        "Correct the participant_id, or make sure the participant is in this site's participants export."
    ),
    "participant_quarantined": "Fix the participant's own row in the participants export first.",
    "age_at_index": "Check the year of birth: the age at the index date must be 18 to 100.",
    "unknown_comparison": (
        "Correct the comparison_id, or make sure the person is in this site's comparison export "
        "(a participant's ID does not count: the comparison group has IDs of its own)."
    ),
    "comparison_quarantined": "Fix the person's own row in the comparison export first.",
}


def fix_for(rule: str) -> str:
    """The advice for a rule, or a general pointer when the rule is new."""
    return FIXES.get(rule, "See the message and the data dictionary (`outcomes contract`).")
