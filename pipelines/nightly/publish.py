"""Publish a release: swap `warehouse/current.duckdb` to it atomically; keep the last few."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from pipelines.core.durable import fsync
from pipelines.core.release import live_release

BUILDING = ".building"
log = logging.getLogger("outcomes.nightly")


def release_path(warehouse: Path, run_id: str) -> Path:
    """Where a run's release file lives once built (each release has its own name)."""
    return warehouse / f"release-{run_id}.duckdb"


def building_path(warehouse: Path, run_id: str) -> Path:
    """Where a run builds its release: never a name a reader would open."""
    return warehouse / f"release-{run_id}.duckdb{BUILDING}"


def clear_unfinished(warehouse: Path) -> list[Path]:
    """Remove what a killed run left half-built (its database, WAL file and spill folder)."""
    leftovers = [p for p in warehouse.glob(f"release-*{BUILDING}*")]
    leftovers += list(warehouse.glob(".current-*.tmp"))
    for p in leftovers:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    return leftovers


def finish(building: Path, final: Path) -> None:
    """Give a built, checkpointed release its final name, durably."""
    fsync(building)
    building.replace(final)
    fsync(final.parent)


def publish(current: Path, release: Path) -> None:
    """Point `current` at the release: a new link renamed over the old one, never a gap.

    A folder where the link belongs (put there by hand) cannot be renamed over: it is set aside,
    with what it holds, under a name that says so; never deleted."""
    if current.is_dir() and not current.is_symlink():
        aside = current.with_name(f"{current.name}.set-aside-{release.stem}")
        current.rename(aside)
        log.warning("a folder stood where the live release belongs: moved it, as it was, to %s", aside)
    link = current.with_name(f".current-{release.stem}.tmp")
    link.unlink(missing_ok=True)
    link.symlink_to(release.name)
    link.replace(current)
    fsync(current.parent)


def prune(warehouse: Path, current: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` releases; never the live one."""
    live = live_release(current)
    releases = sorted(warehouse.glob("release-*.duckdb"), reverse=True)
    removed = []
    for old in releases[keep:]:
        if old != live:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".wal").unlink(missing_ok=True)
            removed.append(old)
    return removed
