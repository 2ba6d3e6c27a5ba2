"""Is a snapshot as it was published? Checked before any of its numbers is shown or any of its
files offered (the Snapshots page), and by `outcomes snapshot verify`.

Each file must have the SHA-256 its manifest gives, and the manifest the SHA-256 that the audit
log recorded when the snapshot was taken (`snapshot_created`, an entry sealed with the audit key).
So editing metrics.csv is caught by the manifest; editing the manifest too, by the audit log; and
editing the audit entry as well, by its key. The bytes checked are the bytes handed out: a file
changed after the check is never shown in its place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.core import audit, audit_key
from pipelines.core.audit_key import AuditKeyError
from pipelines.core.settings import Home
from pipelines.nightly.archive import sha256_of

MANIFEST = "manifest.json"
NOT_RECORDED = (
    "the audit log has no record of this snapshot being taken (it was taken before snapshots were "
    "recorded with their manifest, or not by LEAD Outcomes): take the quarter again"
)


@dataclass(frozen=True)
class Checked:
    """One snapshot's check: what is wrong with it (nothing: intact) and, if intact, its files."""

    snapshot_id: str
    problems: tuple[str, ...]
    files: dict[str, bytes]  # name -> the content checked; empty unless intact

    @property
    def intact(self) -> bool:
        return not self.problems


def recorded_manifests(home: Home) -> tuple[dict[str, str], str | None]:
    """The manifest hash the audit log recorded for each snapshot id, or why none can be trusted."""
    try:
        key = audit_key.load(home)
    except AuditKeyError as error:
        return {}, f"its record in the audit log cannot be checked: {error}"
    if key is None:
        return {}, "its record in the audit log cannot be checked: the audit key is missing"
    return audit.snapshot_manifests(home, key), None


def published_hashes(manifest: object) -> dict[str, str] | None:
    """The files the manifest says were published, with their SHA-256; None if it lists none."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("metrics_csv_sha256"), str):
        return None
    hashes = {"metrics.csv": manifest["metrics_csv_sha256"]}
    if "metrics_xlsx_sha256" in manifest:  # snapshots since issue 15; older ones have none
        if not isinstance(manifest["metrics_xlsx_sha256"], str):
            return None
        hashes["metrics.xlsx"] = manifest["metrics_xlsx_sha256"]
    for report in manifest.get("reports") or []:
        name = report.get("name") if isinstance(report, dict) else None
        if not isinstance(name, str) or "/" in name or name.startswith(".") or name == MANIFEST:
            return None
        hashes[name] = str(report.get("sha256"))
    return hashes


def _content(path: Path, digest: str) -> bytes | str:
    """The file's bytes if they have this SHA-256, else what is wrong. Hashed as a stream first, so
    a huge file planted under a published name is never read into memory."""
    if not path.is_file():
        return f"{path.name} is missing"
    if sha256_of(path) != digest:
        return f"{path.name} was changed after the snapshot was taken"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        return f"{path.name} was changed while it was being checked"
    return data


def check_snapshot(folder: Path, recorded: dict[str, str], unrecorded: str | None = None) -> Checked:
    """Every file of the snapshot in `folder` against its manifest, the manifest against `recorded`
    (snapshot id -> manifest hash, from the audit log); `unrecorded` says why there is no record."""
    problems: list[str] = []
    try:
        manifest_bytes = (folder / MANIFEST).read_bytes()
    except OSError:
        return Checked(folder.name, (f"{MANIFEST} is missing or cannot be read",), {})
    if unrecorded is not None:
        problems.append(unrecorded)
    elif folder.name not in recorded:
        problems.append(NOT_RECORDED)
    elif hashlib.sha256(manifest_bytes).hexdigest() != recorded[folder.name]:
        problems.append(f"{MANIFEST} is not the one the audit log recorded when the snapshot was taken")
    try:
        hashes = published_hashes(json.loads(manifest_bytes))
    except ValueError:
        hashes = None
    if hashes is None:
        return Checked(folder.name, (*problems, f"{MANIFEST} does not list the snapshot's files"), {})
    files = {MANIFEST: manifest_bytes}
    for name in sorted({p.name for p in folder.iterdir()} - {MANIFEST, *hashes}):
        problems.append(f"{name} was not published with the snapshot")
    for name, digest in hashes.items():
        found = _content(folder / name, digest)
        if isinstance(found, str):
            problems.append(found)
        else:
            files[name] = found
    return Checked(folder.name, tuple(problems), {} if problems else files)


def check_snapshots(home: Home, folders: list[Path]) -> dict[str, Checked]:
    """Each snapshot folder checked, by snapshot id (the audit log is read once for all)."""
    recorded, unrecorded = recorded_manifests(home)
    return {folder.name: check_snapshot(folder, recorded, unrecorded) for folder in folders}
