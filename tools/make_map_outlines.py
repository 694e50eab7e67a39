"""Regenerate the offline map outlines shipped in ``lib/landcarbon/data/embedded/maps/``.

Why: cartopy's ``ax.coastlines()`` / ``NaturalEarthFeature`` download shapefiles at run time, which
the compendium forbids (reproducible, offline builds). We ship two small GeoJSON files instead:

``coastlines_110m.geojson``
    The outline of all land: the boundary of the union of every Natural Earth 1:110m Admin-0
    country polygon, with the artificial edges of the data set removed (the antimeridian cuts at
    lon = +-180 and Antarctica's closing edge along lat = -90).
``borders_110m.geojson``
    Land borders between countries: for each pair of touching country polygons the line they share
    (one feature per pair, properties ``left``/``right`` = the two country names, sorted), e.g.
    ``China``/``India``. Natural Earth shows *de facto* boundaries; they imply no endorsement of any
    boundary by the authors.

Source (PyPI only, no other network access): the Natural Earth 1:110m "Admin 0 - Countries"
shapefile that GeoPandas shipped as ``geopandas/datasets/naturalearth_lowres/`` up to version 0.14.x
(``geopandas-0.14.4-py3-none-any.whl``, sha256 pinned below; GeoPandas made it with its
``geopandas/datasets/naturalearth_creation.py`` from
https://www.naturalearthdata.com/http//www.naturalearthdata.com/download/110m/cultural/ne_110m_admin_0_countries.zip).
Natural Earth is in the public domain (https://www.naturalearthdata.com/about/terms-of-use/).

How: ``pip download --no-deps geopandas==0.14.4`` (or ``--wheel PATH`` to a copy), check the wheel's
sha256, read the shapefile straight out of the zip with pyshp (a cartopy dependency), build shapely
geometries, derive coastlines and borders as described above, merge line pieces
(``shapely.line_merge``), simplify with ``shapely.simplify(tolerance=--tolerance degrees,
preserve_topology=True)``, drop lines shorter than 2 vertices, round coordinates to 3 decimals
(~100 m, far below the 1:110m accuracy) and write deterministic GeoJSON (sorted features, fixed key
order). The script prints the sha256 of both outputs; put them in ``data_manifest.yaml`` (entry
``map-outlines``), which the script checks and can update with ``--update-manifest``.

Run from the repository root::

    .venv/bin/python tools/make_map_outlines.py            # download the wheel from PyPI, regenerate
    .venv/bin/python tools/make_map_outlines.py --wheel /tmp/geopandas-0.14.4-py3-none-any.whl
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import shapefile  # pyshp
import shapely
from shapely.geometry import LineString, MultiLineString, shape
from shapely.strtree import STRtree

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "lib" / "landcarbon" / "data" / "embedded" / "maps"
MANIFEST = ROOT / "data_manifest.yaml"

PACKAGE = "geopandas==0.14.4"
WHEEL_NAME = "geopandas-0.14.4-py3-none-any.whl"
WHEEL_SHA256 = "3bb6473cb59d51e1a7fe2dbc24a1a063fb0ebdeddf3ce08ddbf8c7ddc99689aa"
SHP_STEM = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
DECIMALS = 3
SOURCE_TEXT = (
    "Natural Earth 1:110m Admin-0 Countries (public domain, https://www.naturalearthdata.com), as shipped "
    f"in the PyPI wheel {WHEEL_NAME} (sha256 {WHEEL_SHA256}) at {SHP_STEM}.shp"
)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(wheel: Path | None) -> bytes:
    """Return the wheel's bytes (``pip download`` from PyPI unless a local copy is given); check sha256."""
    if wheel is None:
        tmp = Path(tempfile.mkdtemp(prefix="map_outlines_"))
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "-d", str(tmp), PACKAGE], check=True)
        wheel = tmp / WHEEL_NAME
    data = wheel.read_bytes()
    got = sha256_bytes(data)
    if got != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {got} differs from the pinned {WHEEL_SHA256}; refusing to use it")
    return data


def read_countries(wheel_bytes: bytes) -> list[tuple[str, object]]:
    """(name, shapely (Multi)Polygon) for every country of the shapefile, sorted by name."""
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as z:
        parts = {ext: io.BytesIO(z.read(f"{SHP_STEM}.{ext}")) for ext in ("shp", "shx", "dbf")}
    reader = shapefile.Reader(shp=parts["shp"], shx=parts["shx"], dbf=parts["dbf"], encoding="latin-1")  # the .cpg says ISO-8859-1
    out = []
    for rec, shp in zip(reader.records(), reader.shapes()):
        geom = shapely.make_valid(shape(shp.__geo_interface__))
        out.append((str(rec["name"]), geom))
    return sorted(out, key=lambda t: t[0])


def _artificial(p: tuple[float, float], q: tuple[float, float]) -> bool:
    """True for a segment on the antimeridian cut or on Antarctica's closing edge at the pole."""
    on_meridian = abs(abs(p[0]) - 180.0) < 1e-6 and abs(q[0] - p[0]) < 1e-6
    on_pole = p[1] < -89.99 and q[1] < -89.99
    return on_meridian or on_pole


def _lines(geom) -> list[LineString]:
    if geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    if hasattr(geom, "geoms"):
        return [line for g in geom.geoms for line in _lines(g)]
    return []  # points where two boundaries only touch


def _drop_artificial(lines: list[LineString]) -> list[LineString]:
    out = []
    for line in lines:
        coords = list(line.coords)
        run = [coords[0]]
        for p, q in zip(coords[:-1], coords[1:]):
            if _artificial(p, q):
                if len(run) > 1:
                    out.append(LineString(run))
                run = [q]
            else:
                run.append(q)
        if len(run) > 1:
            out.append(LineString(run))
    return out


def _finish(lines: list[LineString], tolerance: float) -> list[list[list[float]]]:
    merged = shapely.line_merge(MultiLineString(lines)) if lines else MultiLineString()
    result = []
    for line in _lines(merged):
        if tolerance > 0:
            line = shapely.simplify(line, tolerance, preserve_topology=True)
        coords = [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in line.coords]
        dedup = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
        if len(dedup) >= 2:
            result.append(dedup)
    return sorted(result)


def coastlines(countries, tolerance: float) -> list[list[list[float]]]:
    land = shapely.union_all([g for _, g in countries])
    return _finish(_drop_artificial(_lines(land.boundary)), tolerance)


def borders(countries, tolerance: float) -> list[tuple[str, str, list[list[list[float]]]]]:
    geoms = [g for _, g in countries]
    tree = STRtree(geoms)
    out = []
    for i, (name_i, gi) in enumerate(countries):
        for j in sorted(int(k) for k in tree.query(gi)):
            if j <= i:
                continue
            name_j, gj = countries[j]
            shared = _drop_artificial(_lines(gi.boundary.intersection(gj.boundary)))
            lines = _finish(shared, tolerance)
            if lines:
                out.append((name_i, name_j, lines))
    return out


def geojson_text(features: list[dict], description: str) -> str:
    fc = {"type": "FeatureCollection", "name": description,
          "source": SOURCE_TEXT, "generator": "tools/make_map_outlines.py", "features": features}
    return json.dumps(fc, separators=(",", ":"), ensure_ascii=False) + "\n"


def build(wheel: Path | None, tolerance: float) -> dict[str, str]:
    countries = read_countries(fetch_wheel(wheel))
    coast = coastlines(countries, tolerance)
    bord = borders(countries, tolerance)
    names = {n for n, _ in countries}
    if "China" not in names or not any("China" in (a, b) for a, b, _ in bord):
        raise SystemExit("China's border is missing from the derived borders; check the source")
    coast_fc = geojson_text([{"type": "Feature", "properties": {"kind": "coastline"},
                              "geometry": {"type": "MultiLineString", "coordinates": coast}}],
                            "coastlines_110m")
    border_fc = geojson_text([{"type": "Feature", "properties": {"kind": "border", "left": a, "right": b},
                               "geometry": {"type": "MultiLineString", "coordinates": lines}}
                              for a, b, lines in bord], "borders_110m")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for fname, text in (("coastlines_110m.geojson", coast_fc), ("borders_110m.geojson", border_fc)):
        path = OUT_DIR / fname
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        hashes[f"maps/{fname}"] = sha256_bytes(text.encode("utf-8"))
        print(f"{path.relative_to(ROOT)}: {len(text.encode()):,} bytes, sha256 {hashes[f'maps/{fname}']}")
    print(f"{len(countries)} countries, {len(coast)} coastline lines, {len(bord)} border pairs "
          f"({sum('China' in (a, b) for a, b, _ in bord)} involving China)")
    return hashes


def update_manifest(hashes: dict[str, str]) -> None:
    """Write the sha256 of each output file into the ``map-outlines`` entry (text edit, keeps comments)."""
    text = MANIFEST.read_text(encoding="utf-8")
    start = text.index("  - id: map-outlines")
    end = text.find("\n  - id: ", start + 1)
    end = len(text) if end < 0 else end
    entry = text[start:end]
    for name, digest in hashes.items():
        pat = re.compile(rf"(- name: {re.escape(name)}\n)(\s+sha256: [0-9a-f]{{64}}\n)?")
        entry, n = pat.subn(lambda m: f"{m.group(1)}        sha256: {digest}\n", entry)
        if n != 1:
            raise SystemExit(f"file {name} not found in the map-outlines entry of {MANIFEST}")
    MANIFEST.write_text(text[:start] + entry + text[end:], encoding="utf-8")
    print(f"updated sha256 in {MANIFEST.name} (entry map-outlines)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, help=f"local copy of {WHEEL_NAME} (default: pip download from PyPI)")
    ap.add_argument("--tolerance", type=float, default=0.05,
                    help="shapely simplify tolerance in degrees (default 0.05)")
    ap.add_argument("--update-manifest", action="store_true", help="write the new sha256 into data_manifest.yaml")
    args = ap.parse_args(argv)
    hashes = build(args.wheel, args.tolerance)
    if args.update_manifest:
        update_manifest(hashes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
