"""The demo's files: clean CSV exactly as the contract says; messy encodings, newlines and an XLSX."""

from __future__ import annotations

from pathlib import Path

from tests.demo.exports import (
    COMPARISON_TABLES,
    CONTRACT,
    SITE_ID,
    decode,
    read_messy,
)


def test_clean_files_have_exactly_the_contract_columns(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    sites = sorted(p.name for p in root.iterdir())
    assert len(sites) == 3
    with_comparison = 0
    for site in sites:
        assert SITE_ID.match(site)
        names = sorted(p.name for p in (root / site).iterdir())
        tables = [t for t in CONTRACT if f"{t}.csv" in names]
        assert names == sorted(f"{t}.csv" for t in tables)
        # Every site sends the participants' five tables; a comparison group comes as both tables.
        assert set(CONTRACT) - set(tables) in (set(), set(COMPARISON_TABLES)), site
        with_comparison += set(COMPARISON_TABLES) <= set(tables)
        for table in tables:
            columns = CONTRACT[table]
            text = (root / site / f"{table}.csv").read_bytes().decode("utf-8")
            assert "\r" not in text and not text.startswith("\ufeff")
            assert text.split("\n", 1)[0] == ",".join(columns)
    assert with_comparison == 2


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
    assert any(decode(b).replace("\r", "\n").endswith("\n\n") for b in raw.values())
    xlsx = sorted(messy.rglob("*.xlsx"))
    assert len(xlsx) == 1
    table = xlsx[0].stem
    assert sorted(read_messy(xlsx[0]).columns) == sorted(CONTRACT[table])
