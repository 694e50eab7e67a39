"""Reading and validating ``data_manifest.yaml``.

The manifest lists every dataset the compendium can use. Each entry::

    - id: de-tha-1998                      # unique, lower-case, [a-z0-9._-]
      title: ...
      kind: site-halfhourly                # free text describing the data shape
      variables: [NEE, TA, ...]            # standard (FLUXNET-style) names after loading
      files:                               # what must be present for the real data to be used
        - name: DE-Tha/Example_DETha98.txt # path relative to a LANDCARBON_DATA_PATH entry
          sha256: 0f9d...                  # null where the provider re-versions files
          url: https://...                 # optional: direct download (pooch, sha256 checked)
        - pattern: "FLX_*_FULLSET_HH_*.csv"  # alternatively: a glob, for file collections
      embedded: false                      # true: files ship inside the package (lib/landcarbon/data/)
      access: How to obtain the data (login, portal, licence to accept).
      license: CC-BY-4.0
      citation: Author (year) ... doi
      doi: 10....
      loader: landcarbon.flux.io:read_reddyproc_text   # "module:function" reading list[Path]
      loader_args: {site: DE-Tha}
      demo: landcarbon.flux.demo:demo_site             # generator(seed=..., **demo_args) or null
      demo_args: {scenario: S0}
      demo_seed: 42
      source: Where the files were taken from (repository and commit, package file, portal).
      extract:                             # optional: compact real-data copy shipped in the package
        files: [{name: site-info/fdk_site_info.csv, sha256: ...}]  # relative to lib/landcarbon/data/embedded/
        builder: landcarbon.data.sites:build_site_info_extract     # (raw_paths, out_dir) -> list[Path]
        loader: landcarbon.data.sites:read_site_info               # (paths, **loader_args) -> xarray.Dataset
        description: what the extract keeps (variables, years) and what it leaves out
"""
from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import ManifestError, located

__all__ = ["Dataset", "FileSpec", "ExtractSpec", "load_manifest", "find_manifest", "MANIFEST_SCHEMA", "resolve_callable",
           "ALLOWED_CALLABLE_PACKAGES", "EXTRA_CALLABLE_MODULES"]

MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "datasets"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "datasets": {"type": "array", "items": {"$ref": "#/$defs/dataset"}},
    },
    "$defs": {
        "file": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "pattern": {"type": "string", "minLength": 1},
                "sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
                "url": {"type": ["string", "null"]},
                "size_bytes": {"type": ["integer", "null"]},
                "optional": {"type": "boolean"},
            },
            "oneOf": [{"required": ["name"]}, {"required": ["pattern"]}],
        },
        "dataset": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "title", "variables", "files", "access", "license", "citation", "loader"],
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"},
                "title": {"type": "string", "minLength": 3},
                "kind": {"type": "string"},
                "description": {"type": "string"},
                "variables": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "files": {"type": "array", "items": {"$ref": "#/$defs/file"}, "minItems": 1},
                "embedded": {"type": "boolean"},
                "access": {"type": "string", "minLength": 3},
                "license": {"type": "string", "minLength": 2},
                "citation": {"type": "string", "minLength": 3},
                "doi": {"type": ["string", "null"]},
                "period": {"type": ["string", "null"]},
                "resolution": {"type": ["string", "null"]},
                "loader": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                "loader_args": {"type": "object"},
                "demo": {"type": ["string", "null"], "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                "demo_args": {"type": "object"},
                "demo_seed": {"type": "integer"},
                "used_by": {"type": "array", "items": {"type": "string"}},
                "provenance": {"type": "string"},
                "source": {"type": "string"},
                "extract": {"$ref": "#/$defs/extract"},
            },
        },
        "extract": {
            "type": "object",
            "additionalProperties": False,
            "required": ["files", "loader", "builder"],
            "properties": {
                "files": {"type": "array", "items": {"$ref": "#/$defs/file"}, "minItems": 1},
                "loader": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                "loader_args": {"type": "object"},
                "builder": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                "description": {"type": "string"},
            },
        },
    },
}


@dataclass(frozen=True)
class FileSpec:
    """One file (or glob pattern) of a dataset."""

    name: str | None
    pattern: str | None = None
    sha256: str | None = None
    url: str | None = None
    size_bytes: int | None = None
    optional: bool = False

    @property
    def label(self) -> str:
        return self.name or self.pattern or "?"


@dataclass(frozen=True)
class ExtractSpec:
    """A compact copy of a real dataset shipped inside the package (``lib/landcarbon/data/embedded/``).

    ``builder(raw_paths, out_dir) -> list[Path]`` regenerates the files from the raw files
    (``tools/make_extracts.py ID``; a test asserts byte equality); ``loader(paths, **loader_args)`` reads
    them into the same :class:`xarray.Dataset` the raw loader returns for the variables the report uses.
    """

    files: tuple[FileSpec, ...]
    loader: str
    builder: str
    loader_args: dict = field(default_factory=dict)
    description: str = ""

    def loader_function(self, where: str = "extract") -> Callable:
        return resolve_callable(self.loader, where=where)

    def builder_function(self, where: str = "extract") -> Callable:
        return resolve_callable(self.builder, where=where)


@dataclass(frozen=True)
class Dataset:
    """One validated manifest entry (see module docstring for the fields)."""

    id: str
    title: str
    variables: tuple[str, ...]
    files: tuple[FileSpec, ...]
    access: str
    license: str
    citation: str
    loader: str
    kind: str = ""
    description: str = ""
    embedded: bool = False
    doi: str | None = None
    period: str | None = None
    resolution: str | None = None
    loader_args: dict = field(default_factory=dict)
    demo: str | None = None
    demo_args: dict = field(default_factory=dict)
    demo_seed: int = 0
    used_by: tuple[str, ...] = ()
    provenance: str = ""
    source: str = ""
    extract: ExtractSpec | None = None
    manifest_path: Path | None = None

    def loader_function(self) -> Callable:
        return resolve_callable(self.loader, where=f"{self.manifest_path}: dataset {self.id!r}, field 'loader'")

    def demo_function(self) -> Callable | None:
        if not self.demo:
            return None
        return resolve_callable(self.demo, where=f"{self.manifest_path}: dataset {self.id!r}, field 'demo'")


#: Top-level packages whose functions a manifest may name as ``loader``/``demo``/``builder``. Anything else
#: (``subprocess:check_call``, ``os:system`` ...) is refused before import: a manifest is data, and data
#: must not choose which code runs. Tests add their own helper modules to :data:`EXTRA_CALLABLE_MODULES`.
ALLOWED_CALLABLE_PACKAGES = ("landcarbon",)
#: Exact module names allowed besides the ``landcarbon`` package (empty in production; tests extend it).
EXTRA_CALLABLE_MODULES: set[str] = set()


def _callable_allowed(module_name: str) -> bool:
    if module_name in EXTRA_CALLABLE_MODULES:
        return True
    return any(module_name == p or module_name.startswith(p + ".") for p in ALLOWED_CALLABLE_PACKAGES)


def resolve_callable(spec: str, *, where: str) -> Callable:
    """Import ``"package.module:function"`` and return the function.

    Only functions defined inside the ``landcarbon`` package (or in a module listed in
    :data:`EXTRA_CALLABLE_MODULES`) are accepted, so a manifest entry cannot make the loader run arbitrary
    code (e.g. ``subprocess:check_call``) — checked both on the module name, before importing it, and on the
    function's own ``__module__`` (a function merely re-exported by a landcarbon module is refused too).
    """
    module_name, _, attr = spec.partition(":")
    if not _callable_allowed(module_name):
        raise ManifestError(located(
            f"{spec!r} is outside the landcarbon package; a manifest may only name landcarbon functions",
            where=where, fix="point the field at a function in landcarbon (e.g. landcarbon.globalsink.io:read_oni)"))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ManifestError(
            located(f"cannot import module {module_name!r} ({exc})", where=where, fix="correct the dotted path")
        ) from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ManifestError(
            located(f"{module_name!r} has no function {attr!r}", where=where, fix="correct the function name")
        )
    defined_in = getattr(fn, "__module__", None) or ""
    if not _callable_allowed(defined_in):
        raise ManifestError(located(
            f"{spec!r} resolves to {defined_in}.{getattr(fn, '__name__', attr)}, which is not defined in landcarbon",
            where=where, fix="name the landcarbon function that wraps it"))
    return fn


def _check_relative_name(name: str, *, where: str) -> None:
    """File names and patterns of the manifest are relative paths below a data folder: no absolute path,
    no drive letter, no ``..`` component, no backslash (which would hide one on Windows)."""
    parts = name.replace("\\", "/").split("/")
    if (name.startswith(("/", "~")) or "\\" in name or ".." in parts or (len(name) > 1 and name[1] == ":")
            or Path(name).is_absolute()):
        raise ManifestError(located(
            f"file name {name!r} must be a relative path inside a data folder (no absolute path, '..', '~' or '\\')",
            where=where, fix="give the path relative to a LANDCARBON_DATA_PATH folder, e.g. co2/co2-gr-gl.csv"))


def find_manifest(start: Path | None = None) -> Path:
    """Locate ``data_manifest.yaml``: ``$LANDCARBON_MANIFEST``, else the project root above ``start``/cwd,
    else the copy beside the installed package source tree."""
    env = os.environ.get("LANDCARBON_MANIFEST")
    if env:
        p = Path(env)
        if not p.is_file():
            raise ManifestError(located(f"LANDCARBON_MANIFEST points to a missing file {p}", fix="unset it or fix the path"))
        return p
    from ..publish.paths import project_root

    return project_root(start) / "data_manifest.yaml"


def _schema_error_message(err, raw: dict, path: Path) -> str:
    loc = list(err.absolute_path)
    entry_id = None
    if len(loc) >= 2 and loc[0] == "datasets" and isinstance(loc[1], int):
        try:
            entry_id = raw["datasets"][loc[1]].get("id")
        except Exception:  # noqa: BLE001 - best effort for the message only
            entry_id = None
    field_path = ".".join(str(x) for x in loc[2:]) if len(loc) > 2 else (str(loc[0]) if len(loc) == 1 else "")
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        field_path = (field_path + "." if field_path else "") + missing
    if err.validator == "additionalProperties":
        field_path = (field_path + " " if field_path else "") + "(unknown field)"
    where = f"{path}"
    if len(loc) >= 2:
        where += f": dataset {entry_id!r} (entry #{loc[1] if len(loc) > 1 else '?'})"
    if field_path:
        where += f", field {field_path!r}"
    return located(f"invalid data manifest: {err.message}", where=where,
                   fix="see the field list in landcarbon/data/manifest.py and the other entries")


def _file_specs(items) -> tuple[FileSpec, ...]:
    return tuple(FileSpec(name=f.get("name"), pattern=f.get("pattern"), sha256=f.get("sha256"), url=f.get("url"),
                          size_bytes=f.get("size_bytes"), optional=f.get("optional", False)) for f in items)


@functools.lru_cache(maxsize=8)
def _load_cached(path_str: str, mtime: float) -> tuple[Dataset, ...]:
    import jsonschema

    path = Path(path_str)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}" + (f", line {mark.line + 1}, column {mark.column + 1}" if mark else "")
        raise ManifestError(located(f"data manifest is not valid YAML ({getattr(exc, 'problem', exc)})", where=where,
                                    fix="correct the YAML syntax")) from exc
    if not isinstance(raw, dict):
        raise ManifestError(located("data manifest must be a mapping with 'version' and 'datasets'", where=str(path)))
    validator = jsonschema.Draft202012Validator(MANIFEST_SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        raise ManifestError(_schema_error_message(errors[0], raw, path))
    seen: set[str] = set()
    out = []
    for i, d in enumerate(raw["datasets"]):
        if d["id"] in seen:
            raise ManifestError(located(f"duplicate dataset id {d['id']!r}", where=f"{path}: entry #{i}",
                                        fix="give every dataset a unique id"))
        seen.add(d["id"])
        for j, f in enumerate(d["files"]):
            _check_relative_name(f.get("name") or f.get("pattern"), where=f"{path}: dataset {d['id']!r}, field 'files.{j}'")
        for j, f in enumerate((d.get("extract") or {}).get("files", [])):
            _check_relative_name(f.get("name") or f.get("pattern"),
                                 where=f"{path}: dataset {d['id']!r}, field 'extract.files.{j}'")
        files = _file_specs(d["files"])
        ex = d.get("extract")
        extract = None if not ex else ExtractSpec(files=_file_specs(ex["files"]), loader=ex["loader"],
                                                  builder=ex["builder"], loader_args=ex.get("loader_args", {}) or {},
                                                  description=ex.get("description", ""))
        out.append(Dataset(
            id=d["id"], title=d["title"], variables=tuple(d["variables"]), files=files, access=d["access"],
            license=d["license"], citation=d["citation"], loader=d["loader"], kind=d.get("kind", ""),
            description=d.get("description", ""), embedded=d.get("embedded", False), doi=d.get("doi"),
            period=d.get("period"), resolution=d.get("resolution"), loader_args=d.get("loader_args", {}) or {},
            demo=d.get("demo"), demo_args=d.get("demo_args", {}) or {}, demo_seed=d.get("demo_seed", 0),
            used_by=tuple(d.get("used_by", [])), provenance=d.get("provenance", ""), source=d.get("source", ""),
            extract=extract, manifest_path=path,
        ))
    return tuple(out)


def load_manifest(path: Path | str | None = None) -> dict[str, Dataset]:
    """Load and validate the manifest; returns ``{id: Dataset}`` in file order.

    Raises
    ------
    ManifestError
        Naming the file, the entry id and the field that is wrong.
    """
    p = Path(path) if path is not None else find_manifest()
    if not p.is_file():
        raise ManifestError(located(f"data manifest not found: {p}", fix="run from the compendium folder or set LANDCARBON_MANIFEST"))
    entries = _load_cached(str(p.resolve()), p.stat().st_mtime)
    return {d.id: d for d in entries}
