"""The demo generator: deterministic, contract-exact when clean, realistic, and messy on request."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines.demo import distributions, write_demo

AS_OF = date(2025, 6, 30)

# DESIGN.md s.4, written out here so the test does not trust the generator's own constants.
CONTRACT = {
    "participants": [
        "participant_id",
        "case_manager_id",
        "referral_date",
        "referral_type",
        "referral_offense",
        "intake_date",
        "exit_date",
        "exit_reason",
        "birth_year",
        "gender",
        "race_ethnicity",
    ],
    "housing": ["participant_id", "assessed_on", "living_situation"],
    "treatment": [
        "episode_id",
        "participant_id",
        "service_type",
        "start_date",
        "end_date",
        "discharge_reason",
    ],
    "employment": ["participant_id", "assessed_on", "employment_status", "has_income"],
    "justice": ["participant_id", "event_date", "event_type", "level"],
}
PERMANENT = {
    "rental_no_subsidy",
    "owned_no_subsidy",
    "owned_with_subsidy",
    "permanent_with_family",
    "permanent_with_friends",
    "hopwa_permanent",
    "rental_with_subsidy",
}
LIVING = PERMANENT | {
    "unsheltered",
    "emergency_shelter",
    "safe_haven",
    "psychiatric_facility",
    "substance_use_treatment",
    "hospital",
    "jail_prison",
    "foster_care",
    "long_term_care",
    "transitional_housing",
    "hotel_motel_self_paid",
    "hopwa_transitional",
    "halfway_house",
    "host_home",
    "temporary_with_family",
    "temporary_with_friends",
    "other",
    "unknown",
}
ENUMS = {
    ("participants", "referral_type"): {"arrest_diversion", "social_contact", "community"},
    ("participants", "referral_offense"): {
        "drug_possession",
        "drug_sales",
        "sex_work",
        "other",
        "none",
    },
    ("participants", "exit_reason"): {
        "graduated",
        "disengaged",
        "moved",
        "incarcerated",
        "deceased",
        "other",
    },
    ("participants", "gender"): {
        "woman",
        "man",
        "transgender",
        "non_binary",
        "other",
        "unknown",
    },
    ("housing", "living_situation"): LIVING,
    ("treatment", "service_type"): {
        "withdrawal_management",
        "residential",
        "intensive_outpatient",
        "outpatient",
        "moud",
        "mental_health",
        "other",
    },
    ("treatment", "discharge_reason"): {
        "completed",
        "left_before_completion",
        "terminated_by_facility",
        "transferred",
        "incarcerated",
        "died",
        "other",
    },
    ("employment", "employment_status"): {
        "full_time",
        "part_time",
        "seasonal_sporadic",
        "training_education",
        "unemployed_seeking",
        "unemployed_not_seeking",
        "unable_to_work",
        "retired",
        "unknown",
    },
    ("employment", "has_income"): {"yes", "no", "unknown"},
    ("justice", "event_type"): {"arrest", "booking", "charge"},
    ("justice", "level"): {"felony", "misdemeanor", "warrant", "unknown"},
}
RACES = {
    "american_indian_alaska_native",
    "asian",
    "black",
    "hispanic_latino",
    "middle_eastern_north_african",
    "native_hawaiian_pacific_islander",
    "white",
    "unknown",
}
OPTIONAL = {
    "referral_offense",
    "intake_date",
    "exit_date",
    "exit_reason",
    "end_date",
    "discharge_reason",
}
DATES = {"referral_date", "intake_date", "exit_date", "assessed_on", "start_date", "end_date"}
DATES |= {"event_date"}
KEYS = {
    "participants": ["participant_id"],
    "housing": ["participant_id", "assessed_on"],
    "treatment": ["episode_id"],
    "employment": ["participant_id", "assessed_on"],
    "justice": ["participant_id", "event_date", "event_type"],
}
MISSING_TOKENS = {"", "na", "n/a", "null", "#n/a"}
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
IDENTIFIER_WORDS = ("name", "ssn", "birth_date", "date_of_birth", "dob", "address", "phone")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read(root: Path, table: str) -> pl.DataFrame:
    """Every site's clean CSV of one table, all values as text, with site_id."""
    frames = [
        pl.read_csv(path, infer_schema=False).with_columns(site_id=pl.lit(path.parent.name))
        for path in sorted(root.glob(f"*/{table}.csv"))
    ]
    return pl.concat(frames)


def _typed(root: Path, table: str) -> pl.DataFrame:
    df = _read(root, table)
    return df.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c in df.columns if c in DATES)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _normalise(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _read_messy(path: Path) -> pl.DataFrame:
    """A messy export read the way the contract allows, all values as trimmed text."""
    if path.suffix == ".xlsx":
        df = pl.read_excel(path).cast(pl.String)
    else:
        text = _decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
        df = pl.read_csv(io.StringIO(text.rstrip("\n") + "\n"), infer_schema=False)
    df = df.rename({c: _normalise(c) for c in df.columns})
    return df.with_columns(pl.all().str.strip_chars())


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("clean")
    counts = write_demo(root, participants=600, sites=3, months=36, seed=11, as_of=AS_OF)
    return root, counts


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("messy")
    write_demo(root, participants=500, sites=5, months=24, seed=3, messy=True, as_of=AS_OF)
    return root


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    args = {"participants": 150, "sites": 4, "months": 12, "messy": True, "as_of": AS_OF}
    write_demo(tmp_path / "a", seed=5, **args)
    write_demo(tmp_path / "b", seed=5, **args)
    write_demo(tmp_path / "c", seed=6, **args)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert any(a[k] != c[k] for k in a)


def test_clean_files_have_exactly_the_contract_columns(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    sites = sorted(p.name for p in root.iterdir())
    assert len(sites) == 3
    for site in sites:
        assert SITE_ID.match(site)
        assert sorted(p.name for p in (root / site).iterdir()) == sorted(f"{t}.csv" for t in CONTRACT)
        for table, columns in CONTRACT.items():
            text = (root / site / f"{table}.csv").read_bytes().decode("utf-8")
            assert "\r" not in text and not text.startswith("\ufeff")
            assert text.split("\n", 1)[0] == ",".join(columns)


def test_counts_match_rows_and_sites_differ_in_size(clean: tuple[Path, dict[str, int]]) -> None:
    root, counts = clean
    assert counts == {t: _read(root, t).height for t in CONTRACT}
    assert counts["participants"] == 600
    sizes = _read(root, "participants").group_by("site_id").len()["len"]
    assert sizes.max() >= 2 * sizes.min()


def test_participant_ids_are_unique_text_with_leading_zeros(
    clean: tuple[Path, dict[str, int]],
) -> None:
    people = _read(clean[0], "participants")
    assert people.select(pl.struct("site_id", "participant_id").is_unique().all()).item()
    assert people["participant_id"].str.contains(r"^[A-Za-z0-9_-]{1,64}$").all()
    assert people["participant_id"].str.starts_with("0").any()
    shared = people.group_by("participant_id").agg(pl.col("site_id").n_unique().alias("sites"))
    assert (shared["sites"] > 1).any()
    assert people["case_manager_id"].str.contains(r"^CM\d{2,}$").all()


def test_clean_values_are_valid_and_only_optional_ones_missing(
    clean: tuple[Path, dict[str, int]],
) -> None:
    root, _ = clean
    for table, columns in CONTRACT.items():
        df = _read(root, table)
        for column in columns:
            if column not in OPTIONAL:
                assert df[column].null_count() == 0, (table, column)
        for (t, column), allowed in ENUMS.items():
            if t == table:
                assert set(df[column].drop_nulls()) <= allowed, (table, column)
        duplicated = df.select(pl.struct("site_id", *KEYS[table]).is_duplicated().any()).item()
        assert not duplicated, table
    races = _read(root, "participants")["race_ethnicity"].str.split(";").explode()
    assert set(races) <= RACES


def test_clean_dates_respect_the_contract(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    p = _typed(root, "participants").with_columns(pl.col("birth_year").cast(pl.Int32))
    assert p["referral_date"].min() >= date(2011, 1, 1)
    assert p["referral_date"].max() <= AS_OF
    assert p.filter(pl.col("intake_date") < pl.col("referral_date")).is_empty()
    assert p.filter(pl.col("exit_date") < pl.col("referral_date")).is_empty()
    assert p.filter(pl.col("exit_date") > AS_OF).is_empty()
    assert (p["exit_date"].is_null() == p["exit_reason"].is_null()).all()
    age = p["referral_date"].dt.year() - p["birth_year"]
    assert age.min() >= 18 and age.max() <= 100
    ref = p.select("site_id", "participant_id", "referral_date")

    for table, column, before in (
        ("housing", "assessed_on", 30),
        ("employment", "assessed_on", 30),
    ):
        df = _typed(root, table).join(ref, on=["site_id", "participant_id"], how="left")
        assert df["referral_date"].null_count() == 0, f"{table} has unknown participants"
        low = pl.col("referral_date") - pl.duration(days=before)
        assert df.filter((pl.col(column) < low) | (pl.col(column) > AS_OF)).is_empty(), table

    t = _typed(root, "treatment").join(ref, on=["site_id", "participant_id"], how="left")
    assert t["referral_date"].null_count() == 0
    assert t.filter(pl.col("start_date") < pl.col("referral_date") - pl.duration(days=365)).is_empty()
    assert t.filter((pl.col("start_date") > AS_OF) | (pl.col("end_date") > AS_OF)).is_empty()
    assert t.filter(pl.col("end_date") < pl.col("start_date")).is_empty()
    assert (t["end_date"].is_null() == t["discharge_reason"].is_null()).all()

    j = _typed(root, "justice").join(ref, on=["site_id", "participant_id"], how="left")
    assert j["referral_date"].null_count() == 0
    assert j.filter(pl.col("event_date") > AS_OF).is_empty()


def test_referral_doors_and_race_mix_look_like_seattle(clean: tuple[Path, dict[str, int]]) -> None:
    p = _read(clean[0], "participants")
    doors = p["referral_type"].value_counts(normalize=True)
    share = dict(zip(doors["referral_type"], doors["proportion"], strict=True))
    assert 0.35 <= share["social_contact"] <= 0.65
    assert share["arrest_diversion"] > share.get("community", 0)
    assert (p["race_ethnicity"] == "black").mean() > 0.35
    assert p["race_ethnicity"].str.contains(";").any()
    assert (p["gender"] == "man").mean() > 0.5
    assert p["exit_reason"].drop_nulls().len() > 0


def test_housing_improves_with_months_in_program(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    ref = _typed(root, "participants").select("site_id", "participant_id", "referral_date")
    h = _typed(root, "housing").join(ref, on=["site_id", "participant_id"])
    days = (pl.col("assessed_on") - pl.col("referral_date")).dt.total_days()
    permanent = pl.col("living_situation").is_in(list(PERMANENT)).mean()
    before = h.filter(days < 0).select(permanent).item()
    later = h.filter(days >= 365).select(permanent).item()
    assert later > before + 0.15
    assert set(h["living_situation"]) == LIVING


def test_arrests_fall_after_referral(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    ref = _typed(root, "participants").filter(pl.col("referral_date") <= AS_OF - timedelta(days=183))
    arrests = (
        _typed(root, "justice")
        .filter(pl.col("event_type") == "arrest")
        .join(
            ref.select("site_id", "participant_id", "referral_date"),
            on=["site_id", "participant_id"],
        )
        .with_columns(d=(pl.col("event_date") - pl.col("referral_date")).dt.total_days())
    )
    before = arrests.filter(pl.col("d").is_between(-182, -1)).height / ref.height
    after = arrests.filter(pl.col("d").is_between(1, 182)).height / ref.height
    assert before > after
    bookings = _typed(root, "justice").filter(pl.col("event_type") == "booking")
    same_day = bookings.join(
        arrests.select("site_id", "participant_id", "event_date"),
        on=["site_id", "participant_id", "event_date"],
        how="semi",
    )
    assert same_day.height > bookings.height / 2


def test_treatment_covers_every_type_and_reason(clean: tuple[Path, dict[str, int]]) -> None:
    t = _read(clean[0], "treatment")
    assert set(t["service_type"]) == ENUMS[("treatment", "service_type")]
    assert set(t["discharge_reason"].drop_nulls()) == ENUMS[("treatment", "discharge_reason")]
    assert t["end_date"].null_count() > 0
    assert t.select(pl.struct("site_id", "episode_id").is_unique().all()).item()


def test_messy_has_odd_encodings_and_an_xlsx(messy: Path) -> None:
    raw = {p: p.read_bytes() for p in sorted(messy.rglob("*.csv"))}
    assert any(b.startswith(b"\xff\xfe") for b in raw.values())
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values())
    cp1252 = []
    for data in raw.values():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            cp1252.append(data.decode("cp1252"))
    assert any("é" in text for text in cp1252)
    assert any(b"\r\n" in b for b in raw.values())
    assert any(b"\r" in b and b"\n" not in b for b in raw.values())
    assert any(_decode(b).replace("\r", "\n").endswith("\n\n") for b in raw.values())
    xlsx = sorted(messy.rglob("*.xlsx"))
    assert len(xlsx) == 1
    table = xlsx[0].stem
    assert sorted(_read_messy(xlsx[0]).columns) == sorted(CONTRACT[table])


def test_messy_rows_carry_the_usual_faults(messy: Path) -> None:
    tables: dict[str, list[pl.DataFrame]] = {t: [] for t in CONTRACT}
    headers = set()
    for path in sorted(messy.rglob("*.*")):
        df = _read_messy(path)
        assert sorted(df.columns) == sorted(CONTRACT[path.stem]), path
        headers.add(path.read_bytes()[:40])
        df = df.select(CONTRACT[path.stem]).with_columns(site_id=pl.lit(path.parent.name))
        tables[path.stem].append(df)
    data = {t: pl.concat(frames) for t, frames in tables.items()}
    assert any(b"Participant ID" in h or b"P\x00a\x00r" in h for h in headers)

    values = pl.concat(
        [data[t].select(pl.col(c).alias("v")) for t in data for c in data[t].columns if c in DATES]
    )["v"].drop_nulls()
    assert values.str.contains(r"^\d{2}/\d{2}/\d{4}$").any()
    assert values.str.contains(r"^\d{5}$").any()

    living = data["housing"]["living_situation"]
    assert living.is_in(["116", "101", "410", "435", "8"]).any()
    assert living.is_in(list(LIVING)).mean() > 0.5
    p = data["participants"]
    assert p["exit_reason"].is_in(["NA", "N/A", "NULL", "#N/A"]).any()

    people = p.select("site_id", "participant_id").unique()
    ghosts = data["housing"].join(people, on=["site_id", "participant_id"], how="anti")
    assert 0 < ghosts.height < data["housing"].height * 0.02

    h = data["housing"]
    assert h.is_duplicated().any()
    keyed = h.unique().group_by("site_id", "participant_id", "assessed_on").len()
    assert (keyed["len"] > 1).any()

    t = data["treatment"]
    iso = r"^\d{4}-\d{2}-\d{2}$"
    both = t.filter(pl.col("start_date").str.contains(iso) & pl.col("end_date").str.contains(iso))
    assert (both["end_date"] < both["start_date"]).any()

    for df in data.values():
        for column in df.columns:
            assert not any(word in column for word in IDENTIFIER_WORDS), column


@pytest.mark.parametrize(
    "kwargs", [{"sites": 0}, {"participants": 2, "sites": 3}, {"months": 0}, {"seed": -1}]
)
def test_invalid_arguments_are_refused(tmp_path: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        write_demo(tmp_path, as_of=AS_OF, **kwargs)


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


def test_outcomes_are_assessed_often_while_active(clean: tuple[Path, dict[str, int]]) -> None:
    root, counts = clean
    people = _typed(root, "participants")
    key = ["site_id", "participant_id"]
    for table, typical in (("housing", (25, 40)), ("employment", (25, 95))):
        df = _typed(root, table).join(people.select(*key, "referral_date"), on=key)
        gaps = (
            df.sort(*key, "assessed_on")
            .select(pl.col("assessed_on").diff().dt.total_days().over(key).alias("gap"))["gap"]
            .drop_nulls()
        )
        assert typical[0] <= gaps.median() <= typical[1], table
        before = df.filter(pl.col("assessed_on") < pl.col("referral_date"))
        assert before.select(key).n_unique() > 0.4 * counts["participants"], table
    # About monthly housing: at least ~2/3 of an assessment per month of engagement.
    start = pl.coalesce("intake_date", "referral_date")
    end = pl.coalesce("exit_date", pl.lit(AS_OF))
    months = people.select(((end - start).dt.total_days().clip(0) / 30.44).sum()).item()
    assert counts["housing"] > 0.65 * months
    assert counts["housing"] > counts["employment"] > 0.4 * months

    # Most people leaving for jail or prison have an exit assessment that says so.
    jailed = people.filter(pl.col("exit_reason") == "incarcerated").select(*key, "exit_date")
    at_exit = _typed(root, "housing").join(
        jailed, left_on=[*key, "assessed_on"], right_on=[*key, "exit_date"]
    )
    assert at_exit.height > 0.5 * jailed.height
    assert (at_exit["living_situation"] == "jail_prison").all()
