"""Datasets: manifest, file resolution, checksum verification, loaders and demo fallbacks.

Resolution order for each file of a dataset (the data flow of the README):

1. the folders of ``LANDCARBON_DATA_PATH`` (colon separated), in order;
2. the pooch download cache (``LANDCARBON_CACHE`` or the OS user cache);
3. a download, only when the manifest gives a ``url`` and the network answers (sha256 checked);
4. the dataset's **embedded extract** (``extract:`` in the manifest): a compact copy of the real files
   shipped inside the package, so that a fresh clone reports on observations without any download;
5. otherwise, with ``source="auto"``, the dataset's deterministic demo generator — announced with a
   warning and recorded in ``ds.attrs["source"] = "demo:<generator>@<seed>"``.

Real data are announced as ``ds.attrs["source"] = "real:<sha256>"`` (the sha256 of the file, or of the
sorted list of file hashes for multi-file datasets); ``ds.attrs["origin"]`` says whether the raw files or
the embedded extract were read.
"""
from __future__ import annotations

import fnmatch
import hashlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..publish.atomic import sha256_file
from ..errors import ChecksumError, DataError, ManifestError, located
from ..publish.paths import data_search_path, download_cache
from .manifest import Dataset, FileSpec, load_manifest

__all__ = [
    "open_dataset",
    "resolve_files",
    "verify",
    "fetch",
    "where",
    "load_manifest",
    "Dataset",
    "DemoDataWarning",
    "ResolvedFiles",
    "describe_source",
    "EMBEDDED_DIR",
    "resolve_extract",
    "build_extract",
]

log = logging.getLogger(__name__)

#: Folder of data files shipped inside the package (``embedded: true`` entries).
EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded"

Source = Literal["auto", "real", "demo"]


class DemoDataWarning(UserWarning):
    """Emitted whenever a demo generator stands in for real data."""


@dataclass
class ResolvedFiles:
    """Files found for one dataset (``paths``) and the specs that could not be found (``missing``)."""

    dataset: Dataset
    paths: list[Path]
    missing: list[FileSpec]
    origin: dict[str, str]  # path -> "data-path" | "cache" | "download" | "embedded"
    #: label -> why a download that was attempted did not deliver the file (network error, refused ...)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not [m for m in self.missing if not m.optional]


def _search_dirs(ds: Dataset) -> list[Path]:
    if ds.embedded:
        return [EMBEDDED_DIR]
    return [*data_search_path(), download_cache()]


def _match_pattern(dirs: list[Path], pattern: str) -> list[Path]:
    found: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            continue
        sub = Path(pattern).parent
        base = d / sub if str(sub) not in ("", ".") else d
        if base.is_dir():
            found += sorted(p for p in base.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, Path(pattern).name))
        if found:
            return found
    return found


def _try_download(spec: FileSpec, *, allow_unhashed: bool = False) -> tuple[Path | None, str | None]:
    """Download ``spec.url`` into the cache; returns ``(path, None)`` or ``(None, reason)``.

    A file without a sha256 in the manifest is not downloaded unless ``allow_unhashed`` (nothing would
    tell a tampered or re-versioned file from the one the compendium was built on). A hash mismatch of
    the downloaded bytes raises :class:`ChecksumError` (pooch removes the file).
    """
    if not spec.url or not spec.name:
        return None, None
    if not spec.sha256 and not allow_unhashed:
        return None, (f"refused to download {spec.url} without a sha256 in the manifest "
                      "(add the file's sha256, or pass allow_unhashed=True / --allow-unhashed)")
    import pooch

    try:
        fname = pooch.retrieve(url=spec.url, known_hash=f"sha256:{spec.sha256}" if spec.sha256 else None,
                               fname=Path(spec.name).name, path=download_cache() / Path(spec.name).parent,
                               progressbar=False)
    except ValueError as exc:  # pooch raises ValueError on a hash mismatch
        from ..publish.refusals import record_refused_file

        record_refused_file(spec.url, expected=spec.sha256, found=None, reason=f"download: {exc}")
        raise ChecksumError(located(f"downloaded file does not match its sha256 ({exc})", where=spec.url,
                                    fix="the provider changed the file; update the manifest after checking it")) from exc
    except Exception as exc:  # noqa: BLE001 - any network failure: report it, with its reason
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("download of %s failed: %s", spec.url, reason)
        return None, f"download of {spec.url} failed ({reason})"
    return Path(fname), None


def resolve_files(dataset_id: str, *, download: bool = False, check: bool = True,
                  allow_unhashed: bool = False) -> ResolvedFiles:
    """Locate the files of ``dataset_id``; verify sha256 of those found (``check=True``).

    Raises
    ------
    ChecksumError
        A file exists but its sha256 differs from the manifest (message names both hashes).
    """
    ds = _get(dataset_id)
    dirs = _search_dirs(ds)
    paths: list[Path] = []
    missing: list[FileSpec] = []
    origin: dict[str, str] = {}
    failures: dict[str, str] = {}
    for spec in ds.files:
        if spec.pattern:
            hits = _match_pattern(dirs, spec.pattern)
            if hits:
                paths += hits
                origin.update({str(h): "embedded" if ds.embedded else "data-path" for h in hits})
            elif not spec.optional:
                missing.append(spec)
            continue
        hit = next((d / spec.name for d in dirs if (d / spec.name).is_file()), None)
        how = "embedded" if ds.embedded else ("cache" if hit and str(hit).startswith(str(download_cache())) else "data-path")
        if hit is None and download:
            hit, reason = _try_download(spec, allow_unhashed=allow_unhashed)
            how = "download"
            if reason:
                failures[spec.label] = reason
        if hit is None:
            if not spec.optional:
                missing.append(spec)
            continue
        if check and spec.sha256:
            _check_sha(hit, spec, ds)
        paths.append(hit)
        origin[str(hit)] = how
    return ResolvedFiles(ds, paths, missing, origin, failures)


def resolve_extract(dataset_id: str, *, check: bool = True) -> list[Path] | None:
    """Paths of the dataset's embedded extract (sha256 verified), or ``None`` when it has none."""
    ds = _get(dataset_id)
    if ds.extract is None:
        return None
    paths = []
    for spec in ds.extract.files:
        p = EMBEDDED_DIR / spec.name
        if not p.is_file():
            if spec.optional:
                continue
            raise DataError(located(f"embedded extract of {dataset_id!r} is missing {spec.name}", where=str(p),
                                    fix=f"regenerate it: python tools/make_extracts.py {dataset_id} (needs the raw files)"))
        if check and spec.sha256:
            _check_sha(p, spec, ds)
        paths.append(p)
    return paths


def build_extract(dataset_id: str, out_dir: Path | str | None = None) -> list[Path]:
    """Regenerate the dataset's embedded extract from its raw files (found on ``LANDCARBON_DATA_PATH``).

    Writes into ``out_dir`` (default: the package's ``embedded/`` folder) and returns the written paths.
    """
    ds = _get(dataset_id)
    if ds.extract is None:
        raise ManifestError(located(f"dataset {dataset_id!r} has no 'extract' entry", where="data_manifest.yaml"))
    res = resolve_files(dataset_id)
    if not (res.complete and res.paths):
        raise DataError(located(f"raw files of {dataset_id!r} not found (missing: {', '.join(m.label for m in res.missing)})",
                                where="searched: " + ", ".join(str(d) for d in _search_dirs(ds)),
                                fix="point LANDCARBON_DATA_PATH at the folder with the raw files (e.g. ../shared/data)"))
    builder = ds.extract.builder_function(where=f"data_manifest.yaml: dataset {dataset_id!r}, field 'extract.builder'")
    return [Path(p) for p in builder(res.paths, Path(out_dir) if out_dir else EMBEDDED_DIR)]


def _check_sha(path: Path, spec: FileSpec, ds: Dataset) -> None:
    actual = sha256_file(path)
    if actual != spec.sha256:
        from ..publish.refusals import record_refused_file

        record_refused_file(path, expected=spec.sha256, found=actual, dataset=ds.id)  # fails a pipeline run
        raise ChecksumError(located(
            f"sha256 mismatch for dataset {ds.id!r}: expected {spec.sha256}, found {actual}",
            where=str(path),
            fix="the file is corrupt, truncated or a different version; fetch it again "
                "(`landcarbon data fetch " + ds.id + "`) or, if you deliberately use another version, "
                "update its sha256 in data_manifest.yaml",
        ))


def _get(dataset_id: str) -> Dataset:
    manifest = load_manifest()
    if dataset_id not in manifest:
        close = [k for k in manifest if dataset_id.split("-")[0] in k]
        raise ManifestError(located(f"unknown dataset id {dataset_id!r}", where="data_manifest.yaml",
                                    fix=f"use one of {sorted(manifest)}" + (f" (did you mean {close[0]!r}?)" if close else "")))
    return manifest[dataset_id]


def _combined_hash(paths: list[Path]) -> str:
    hashes = sorted(sha256_file(p) for p in paths)
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def describe_source(source_attr: str) -> str:
    """A human sentence for ``ds.attrs['source']`` (used by notebooks and the report)."""
    if source_attr.startswith("real:"):
        return f"REAL data (sha256 {source_attr[5:17]}…)"
    if source_attr.startswith("demo:"):
        return f"DEMO digital twin ({source_attr[5:]}) — synthetic data with known truth, not observations"
    if source_attr.startswith("literature:"):
        return f"PUBLISHED (transcribed) numbers from the literature, manifest id {source_attr[11:]} — not observations"
    if source_attr.startswith("derived:"):
        return f"COMPUTED from published numbers (manifest id {source_attr[8:]}) — not observations"
    return source_attr


def open_dataset(dataset_id: str, source: Source = "auto", *, seed: int | None = None, download: bool = False,
                 **kwargs):
    """Open a manifest dataset as an :class:`xarray.Dataset` with standard names and ``units`` attributes.

    Parameters
    ----------
    dataset_id : str
        Manifest id (``landcarbon data list``).
    source : {"auto", "real", "demo"}
        ``"auto"`` uses real files when found and the demo generator otherwise (with a
        :class:`DemoDataWarning`); ``"real"`` raises :class:`DataError` when files are missing;
        ``"demo"`` always generates.
    seed : int, optional
        Seed of the demo generator (default: the manifest's ``demo_seed``).
    download : bool
        Allow a download when the manifest gives a URL.
    **kwargs
        Passed to the loader (real) or the generator (demo), overriding manifest arguments.

    Returns
    -------
    xarray.Dataset
        ``attrs["source"]`` is ``"real:<sha256>"`` or ``"demo:<module:function>@<seed>"``;
        ``attrs["dataset_id"]`` is the id.
    """
    if source not in ("auto", "real", "demo"):
        raise DataError(located(f"source must be 'auto', 'real' or 'demo', not {source!r}", where="open_dataset"))
    ds_meta = _get(dataset_id)
    if source in ("auto", "real"):
        res = resolve_files(dataset_id, download=download)
        if res.complete and res.paths:
            loader = ds_meta.loader_function()
            args = {**ds_meta.loader_args, **kwargs}
            out = loader(res.paths, **args)
            out.attrs["source"] = f"real:{_combined_hash(res.paths)}"
            out.attrs["dataset_id"] = dataset_id
            out.attrs["origin"] = "raw files"
            out.attrs["files"] = ";".join(str(p) for p in res.paths)
            log.info("dataset %s: real data from %s", dataset_id, res.paths)
            return out
        extract = resolve_extract(dataset_id) if ds_meta.extract is not None else None
        if extract:
            loader = ds_meta.extract.loader_function(where=f"data_manifest.yaml: dataset {dataset_id!r}, field 'extract.loader'")
            out = loader(extract, **{**ds_meta.extract.loader_args, **kwargs})
            out.attrs["source"] = f"real:{_combined_hash(extract)}"
            out.attrs["dataset_id"] = dataset_id
            out.attrs["origin"] = "embedded extract (lib/landcarbon/data/embedded)"
            out.attrs["files"] = ";".join(str(p) for p in extract)
            log.info("dataset %s: real data from the embedded extract %s", dataset_id, extract)
            return out
        if source == "real" or ds_meta.demo is None:
            names = ", ".join(m.label for m in res.missing)
            raise DataError(located(
                f"real data for {dataset_id!r} not found (missing: {names})",
                where="searched: " + ", ".join(str(d) for d in _search_dirs(ds_meta)),
                fix=f"{ds_meta.access.strip()} Then put the files in a folder listed in LANDCARBON_DATA_PATH"
                + ("" if ds_meta.demo is None else ", or use source='demo'"),
            ))
    gen = ds_meta.demo_function()
    if gen is None:
        raise DataError(located(f"dataset {dataset_id!r} has no demo generator", where="data_manifest.yaml",
                                fix="provide the real files"))
    use_seed = ds_meta.demo_seed if seed is None else int(seed)
    args = {**ds_meta.demo_args, **kwargs}
    out = gen(seed=use_seed, **args)
    out.attrs["source"] = f"demo:{ds_meta.demo}@{use_seed}"
    out.attrs["dataset_id"] = dataset_id
    if source == "auto":
        warnings.warn(f"dataset {dataset_id!r}: real files not found — using the DEMO digital twin "
                      f"{ds_meta.demo} (seed {use_seed}). Set LANDCARBON_DATA_PATH to use real data.",
                      DemoDataWarning, stacklevel=2)
    return out


def verify(dataset_id: str | None = None) -> list[dict]:
    """Check the sha256 of every file present; one record per file with status ok/missing/mismatch/unchecked."""
    manifest = load_manifest()
    ids = [dataset_id] if dataset_id else list(manifest)
    rows = []
    for i in ids:
        ds = _get(i)
        dirs = _search_dirs(ds)
        for spec in ds.files:
            if spec.pattern:
                hits = _match_pattern(dirs, spec.pattern)
                rows.append({"id": i, "file": spec.label, "status": f"found {len(hits)} (unchecked pattern)" if hits else "missing",
                             "path": str(hits[0].parent) if hits else None})
                continue
            hit = next((d / spec.name for d in dirs if (d / spec.name).is_file()), None)
            if hit is None:
                rows.append({"id": i, "file": spec.label, "status": "missing", "path": None})
                continue
            if not spec.sha256:
                rows.append({"id": i, "file": spec.label, "status": "unchecked (no sha256 in manifest)", "path": str(hit)})
                continue
            actual = sha256_file(hit)
            status = "ok" if actual == spec.sha256 else f"MISMATCH expected {spec.sha256} found {actual}"
            rows.append({"id": i, "file": spec.label, "status": status, "path": str(hit)})
    return rows


def where(dataset_id: str) -> dict:
    """Where the dataset's files are (or would be looked for)."""
    ds = _get(dataset_id)
    res = resolve_files(dataset_id, check=False)
    return {"id": dataset_id, "found": [str(p) for p in res.paths], "missing": [m.label for m in res.missing],
            "searched": [str(d) for d in _search_dirs(ds)], "demo": ds.demo}


def fetch(dataset_id: str, *, allow_unhashed: bool = False) -> ResolvedFiles:
    """Download what can be downloaded (files with a URL) into the pooch cache; verify sha256.

    Files already on ``LANDCARBON_DATA_PATH`` or in the cache are verified, not downloaded again.

    Raises
    ------
    DataError
        A file has a URL but could not be obtained: the message names every such file, the URL and the
        reason (network error, refused because the manifest has no sha256), and how to fix it. Files
        without a URL stay in ``missing`` (they need the manual steps of the entry's ``access``).
    ChecksumError
        A file (present or downloaded) does not match its sha256.
    """
    res = resolve_files(dataset_id, download=True, allow_unhashed=allow_unhashed)
    if res.failures:
        lines = "; ".join(f"{label}: {why}" for label, why in res.failures.items())
        unhashed = any("without a sha256" in why for why in res.failures.values())
        raise DataError(located(
            f"could not fetch {len(res.failures)} file(s) of dataset {dataset_id!r}: {lines}",
            where="data_manifest.yaml: dataset " + repr(dataset_id),
            fix=("add the sha256 of each file to the manifest (or rerun with --allow-unhashed if you trust the source)"
                 if unhashed else
                 "check the network connection or proxy (HTTPS_PROXY) and retry, or download the file by hand and "
                 "put it in a folder on LANDCARBON_DATA_PATH under the same relative name"),
        ))
    return res
