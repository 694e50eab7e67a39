"""Regenerate the China outline polygon shipped in ``lib/landcarbon/data/embedded/atmosphere/``.

``china_ne110m.geojson``: the Natural Earth 1:110m "Admin 0 - Countries" polygon named ``China`` (mainland
China with Hainan; Natural Earth draws *de facto* boundaries: Aksai Chin is inside, Arunachal Pradesh and
Taiwan — a separate Natural Earth country — are outside), optionally with the ``Taiwan`` polygon added
(feature property ``includes``). The region masks (``landcarbon.atmosphere.regions.china_fraction``) read it
with regionmask; ``tests/test_atmosphere_regions.py`` checks its area against 9.6 million km2.

Source (PyPI only, no other network access): the shapefile GeoPandas shipped as
``geopandas/datasets/naturalearth_lowres/`` up to 0.14.x, read straight out of the pinned wheel, exactly as
``tools/make_map_outlines.py`` does (same wheel, same sha256). Natural Earth is in the public domain.

Run from the repository root::

    .venv/bin/python tools/make_china_outline.py [--wheel /tmp/geopandas-0.14.4-py3-none-any.whl]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from make_map_outlines import SOURCE_TEXT, fetch_wheel, read_countries  # noqa: E402

OUT = ROOT / "lib" / "landcarbon" / "data" / "embedded" / "atmosphere" / "china_ne110m.geojson"
DECIMALS = 3


def build(wheel: Path | None) -> bytes:
    countries = dict(read_countries(fetch_wheel(wheel)))
    feats = []
    for name, includes in (("China", "mainland China and Hainan (Natural Earth de facto boundaries)"),
                           ("Taiwan", "Taiwan (a separate Natural Earth country)")):
        geom = shapely.set_precision(countries[name], 10 ** -DECIMALS)
        feats.append({"type": "Feature", "properties": {"name": name, "includes": includes},
                      "geometry": json.loads(json.dumps(mapping(geom)))})
    doc = {"type": "FeatureCollection", "source": SOURCE_TEXT, "features": feats}
    return (json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, default=None, help="local copy of geopandas-0.14.4-py3-none-any.whl")
    args = ap.parse_args(argv)
    data = build(args.wheel)
    OUT.write_bytes(data)
    print(f"{OUT.relative_to(ROOT)}  sha256 {hashlib.sha256(data).hexdigest()}  ({len(data)} bytes)")


if __name__ == "__main__":
    main()
