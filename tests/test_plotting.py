"""Offline maps: shipped outlines (manifest entry ``map-outlines``), map helpers, no network ever.

Oracles: the coastlines/borders are checked against an independent land mask (the
``global-land-mask`` package, GLOBE 1-km DEM derived), the outline derivation of
``tools/make_map_outlines.py`` against hand-made polygons, and the rendered PNG pixels against the
land mask again.
"""
from __future__ import annotations

import importlib.util
import json
import socket
import urllib.request
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from landcarbon import plotting  # noqa: E402
from landcarbon.errors import ConfigError, DataError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAPS = ROOT / "lib" / "landcarbon" / "data" / "embedded" / "maps"
globe = pytest.importorskip("global_land_mask.globe")


def _is_land(lat, lon):
    lat = np.clip(np.asarray(lat, float), -89.99, 89.99)
    lon = ((np.asarray(lon, float) + 180.0) % 360.0) - 180.0
    return globe.is_land(lat, lon)


def _near_transition(lat, lon, radius=1.0, n=5):
    """True where the land mask has both land and sea within +-radius degrees."""
    offs = np.linspace(-radius, radius, n)
    dy, dx = np.meshgrid(offs, offs, indexing="ij")
    land = _is_land(lat[:, None] + dy.ravel()[None, :], lon[:, None] + dx.ravel()[None, :])
    return land.any(axis=1) & ~land.all(axis=1)


# ------------------------------------------------------------------------------------------------
# the shipped data and its manifest entry
# ------------------------------------------------------------------------------------------------

def test_outlines_load_through_manifest_with_checksums():
    from landcarbon.data import load_manifest, open_dataset

    entry = load_manifest()["map-outlines"]
    assert entry.embedded and entry.loader == "landcarbon.plotting:read_map_outlines"
    assert "public domain" in entry.license.lower() and "Natural Earth" in entry.citation
    assert "geopandas-0.14.4" in entry.provenance
    for spec in entry.files:
        assert spec.sha256 and len(spec.sha256) == 64
        path = MAPS / Path(spec.name).name
        assert path.stat().st_size < 1.5e6
    ds = open_dataset("map-outlines", source="real")
    assert ds.attrs["source"].startswith("real:")
    assert ds["coastline_lon"].attrs["units"] == "degrees_east"
    assert ds.sizes["coastline_vertex"] > 1000 and ds.sizes["border_feature"] > 250


def test_coastline_vertices_lie_on_land_sea_transitions_of_independent_mask():
    ds = plotting.read_map_outlines(sorted(MAPS.glob("*.geojson")))
    lon, lat = ds["coastline_lon"].values, ds["coastline_lat"].values
    ok = np.isfinite(lon) & (lat > -60)  # Antarctic ice shelves differ between data sets
    lon, lat = lon[ok], lat[ok]
    hit = _near_transition(lat, lon).mean()
    # control: the same lines displaced by 4 degrees are far less often on a coast
    shifted = _near_transition(lat + 4.0, lon + 4.0).mean()
    print(f"coastline vertices at a land/sea transition: {hit:.3f}; displaced control: {shifted:.3f}")
    assert hit > 0.9, hit
    assert shifted < hit - 0.3, (hit, shifted)


def test_china_border_is_present_on_land_and_in_place():
    ds = plotting.read_map_outlines(sorted(MAPS.glob("*.geojson")))
    pairs = {tuple(sorted((a, b))) for a, b in zip(ds["border_left"].values, ds["border_right"].values)}
    neighbours = {a if b == "China" else b for a, b in pairs if "China" in (a, b)}
    # China's 14 land neighbours (Natural Earth names)
    assert neighbours == {"Afghanistan", "Bhutan", "India", "Kazakhstan", "Kyrgyzstan", "Laos", "Mongolia",
                          "Myanmar", "Nepal", "North Korea", "Pakistan", "Russia", "Tajikistan", "Vietnam"}
    geom = plotting.outline_geometries("border", countries="China", outlines=ds)
    xmin, ymin, xmax, ymax = geom.bounds
    # mainland China's land border spans about 73.5-134.8 E and 21.1-53.6 N
    assert 72.5 < xmin < 75 and 133.5 < xmax < 136 and 20 < ymin < 22.5 and 52.5 < ymax < 54.5
    coords = np.array([c for line in geom.geoms for c in line.coords])
    on_land = _is_land(coords[:, 1], coords[:, 0])
    # border vertices are on land, except where the border ends at the sea (a few vertices)
    assert on_land.mean() > 0.95
    all_borders = plotting.outline_geometries("border", outlines=ds)
    assert len(all_borders.geoms) > len(geom.geoms)


def test_read_map_outlines_bad_files(tmp_path):
    bad = tmp_path / "coastlines_bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="coastlines_bad.geojson"):
        plotting.read_map_outlines([bad])
    pts = tmp_path / "borders_pts.geojson"
    pts.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "border"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}))
    with pytest.raises(DataError, match="Point"):
        plotting.read_map_outlines([pts])
    unknown = tmp_path / "lines.geojson"
    unknown.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(DataError, match="coastlines or borders"):
        plotting.read_map_outlines([unknown])
    with pytest.raises(ConfigError, match="Atlantis"):
        plotting.outline_geometries("border", countries=["Atlantis"])


# ------------------------------------------------------------------------------------------------
# the derivation in tools/make_map_outlines.py, on hand-made polygons
# ------------------------------------------------------------------------------------------------

def _tool():
    spec = importlib.util.spec_from_file_location("make_map_outlines", ROOT / "tools" / "make_map_outlines.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tool_derives_coast_and_shared_border_from_polygons():
    from shapely.geometry import LineString, MultiLineString, box

    tool = _tool()
    # A|B two unit squares sharing x=1; C touches the antimeridian and D continues it on the other side
    countries = [("A", box(0, 0, 1, 1)), ("B", box(1, 0, 2, 1)),
                 ("C", box(179, 10, 180, 11)), ("D", box(-180, 10, -179, 11))]
    borders = tool.borders(countries, tolerance=0)
    assert [(a, b) for a, b, _ in borders] == [("A", "B")]
    assert LineString(borders[0][2][0]).equals(LineString([(1, 0), (1, 1)]))
    coast = MultiLineString([LineString(c) for c in tool.coastlines(countries, tolerance=0)])
    # the outer ring of A+B is coast, the shared edge is not; the cut at +-180 is not coast
    assert coast.covers(LineString([(0, 0), (0, 1)])) and coast.covers(LineString([(2, 0), (2, 1)]))
    assert not coast.intersects(LineString([(1, 0.2), (1, 0.8)]))
    assert not coast.intersects(LineString([(180, 10.2), (180, 10.8)]))
    assert not coast.intersects(LineString([(-180, 10.2), (-180, 10.8)]))
    assert coast.covers(LineString([(179, 11), (180, 11)]))
    # Antarctica-like closing edge along the pole is dropped
    coast_pole = tool.coastlines([("S", box(-180, -90, 180, -80))], tolerance=0)
    segments = [(p, q) for line in coast_pole for p, q in zip(line[:-1], line[1:])]
    assert not [s for s in segments if s[0][1] == -90 and s[1][1] == -90]
    assert not [s for s in segments if abs(s[0][0]) == 180 and s[0][0] == s[1][0]]
    assert MultiLineString([LineString(c) for c in coast_pole]).equals(LineString([(-180, -80), (180, -80)]))


# ------------------------------------------------------------------------------------------------
# rendering without network
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Any socket connection, urlopen or cartopy download raises; cartopy's data dirs are empty."""
    import cartopy
    import cartopy.io

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise RuntimeError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(cartopy.io.Downloader, "acquire_resource", refuse)
    data_dir = tmp_path / "cartopy_data"
    data_dir.mkdir()
    monkeypatch.setitem(cartopy.config, "data_dir", data_dir)
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", data_dir)
    yield attempts
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert written == [], f"cartopy wrote data files: {written}"


def _render_outline_pixels(tmp_path, coastlines=True, borders=False):
    fig = plt.figure(figsize=(7.2, 3.6), dpi=100)
    import cartopy.crs as ccrs

    ax = fig.add_axes([0, 0, 1, 1], projection=ccrs.PlateCarree())
    plotting.map_axes(ax, projection="platecarree", gridlines=False, coastlines=coastlines, borders=borders,
                      outline_kw={"color": "#ff0000", "linewidth": 1.0})
    ax = fig.axes[0]
    ax.set_global()
    ax.spines["geo"].set_visible(False)
    out = tmp_path / "outlines.png"
    fig.savefig(out, dpi=100)
    plt.close(fig)
    img = plt.imread(out)[..., :3]
    red = (img[..., 0] > 0.8) & (img[..., 1] < 0.5) & (img[..., 2] < 0.5)
    return red


def test_map_renders_outlines_without_any_download(no_network, tmp_path):
    import warnings

    import cartopy.io

    with warnings.catch_warnings():
        warnings.simplefilter("error", cartopy.io.DownloadWarning)
        red = _render_outline_pixels(tmp_path)
    assert no_network == []
    ny, nx = red.shape
    assert red.sum() > 2000
    jj, ii = np.nonzero(red)
    lon = -180 + (ii + 0.5) * 360.0 / nx
    lat = 90 - (jj + 0.5) * 180.0 / ny
    keep = lat > -60
    frac = _near_transition(lat[keep], lon[keep], radius=1.5).mean()
    print(f"red pixels {red.sum()}, at a land/sea transition: {frac:.3f}")
    assert frac > 0.85, frac
    assert _render_outline_pixels(tmp_path, coastlines=False).sum() == 0


def test_guard_catches_cartopys_own_download(no_network, tmp_path):
    """Proof that the guard works: cartopy's ax.coastlines() tries to download and is refused."""
    import cartopy.crs as ccrs

    fig = plt.figure()
    ax = fig.add_subplot(projection=ccrs.PlateCarree())
    ax.coastlines()
    import cartopy.io

    with pytest.warns(cartopy.io.DownloadWarning), pytest.raises(Exception, match="network access attempted"):
        fig.savefig(tmp_path / "x.png")
    plt.close(fig)
    assert no_network  # an attempt was recorded
    no_network.clear()


def _field(lat_desc=False, lon360=False):
    lat = np.arange(-88.0, 90.0, 4.0)
    lon = np.arange(-178.0, 180.0, 4.0)
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    vals = np.sin(np.deg2rad(LON)) * np.cos(np.deg2rad(LAT)) + LAT / 200.0
    da = xr.DataArray(vals, dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                      attrs={"units": "gC m-2 yr-1", "long_name": "ER trend"}, name="trend")
    if lon360:
        da = da.assign_coords(lon=da["lon"] % 360).sortby("lon")
    if lat_desc:
        da = da.isel(lat=slice(None, None, -1))
    return da


def _png(da, tmp_path, name, **kw):
    fig = plt.figure(figsize=(6, 3.5), dpi=60)
    ax = fig.add_subplot(1, 1, 1)
    plotting.plot_map(da, ax=ax, **kw)
    out = tmp_path / f"{name}.png"
    fig.savefig(out)
    plt.close(fig)
    return plt.imread(out)


def test_plot_map_same_picture_for_any_grid_orientation(no_network, tmp_path):
    ref = _png(_field(), tmp_path, "ref", centre=0.0, stipple=_field() > 0.5)
    other_da = _field(lat_desc=True, lon360=True)
    other = _png(other_da, tmp_path, "other", centre=0.0, stipple=other_da > 0.5)
    assert ref.shape == other.shape
    np.testing.assert_array_equal(ref, other)
    # and the picture does depend on the data (the comparison can fail)
    changed = _png(-_field(), tmp_path, "neg", centre=0.0)
    assert np.abs(changed - ref).max() > 0.1


def test_plot_map_limits_colourbar_and_stippling(no_network, tmp_path):
    da = _field()
    ax = plotting.plot_map(da, centre=0.0, title="t")
    norm = ax.landcarbon_mesh.norm
    assert norm.vmin == pytest.approx(-norm.vmax)
    assert norm.vmax == pytest.approx(np.abs(da.values).max())
    cbar_ax = ax.figure.axes[-1]
    assert cbar_ax.get_xlabel() == "ER trend [gC m-2 yr-1]"
    assert ax.get_title() == "t"
    plt.close(ax.figure)

    mask = da > 0.3
    ax = plotting.plot_map(da, stipple=mask, stipple_step=1, vmin=-1, vmax=1, extent=plotting.CHINA_EXTENT)
    dots = [c for c in ax.collections if c.__class__.__name__ == "PathCollection"]
    assert len(dots) == 1 and len(dots[0].get_offsets()) == int(mask.sum())
    assert (ax.landcarbon_mesh.norm.vmin, ax.landcarbon_mesh.norm.vmax) == (-1, 1)
    plt.close(ax.figure)

    # regional map: default limits come from the region shown
    ax = plotting.plot_map(da, extent=plotting.CHINA_EXTENT)
    sub = da.sel(lat=slice(17, 54.5), lon=slice(72, 136))
    assert ax.landcarbon_mesh.norm.vmin == pytest.approx(float(sub.min()))
    assert ax.landcarbon_mesh.norm.vmax == pytest.approx(float(sub.max()))
    plt.close(ax.figure)


def test_plot_map_bad_inputs():
    da = _field()
    with pytest.raises(DataError, match="latitude"):
        plotting.plot_map(da.rename(lat="row"))
    with pytest.raises(DataError, match="isel"):
        plotting.plot_map(da.expand_dims(time=3))
    with pytest.raises(DataError, match="stipple grid"):
        plotting.plot_map(da, stipple=(da > 0).isel(lat=slice(0, 10)))
    with pytest.raises(ConfigError, match="unknown projection"):
        plotting.map_axes(projection="mercatorx")
    with pytest.raises(ConfigError, match="GeoAxes"):
        fig, ax = plt.subplots()
        plotting.add_outlines(ax)
    plt.close("all")


def test_map_axes_replaces_plain_axes_and_keeps_singleton_dims_ok(no_network, tmp_path):
    import cartopy.crs as ccrs

    fig, axes = plt.subplots(1, 2)
    geo = plotting.map_axes(axes[1], extent=plotting.CHINA_EXTENT, borders=True)
    assert isinstance(geo.projection, ccrs.PlateCarree)  # regional default, with gridline labels
    ax = plotting.plot_map(_field().expand_dims(year=[2000]), ax=axes[0])
    assert isinstance(ax.projection, ccrs.Robinson)  # global default
    assert len([a for a in fig.axes if hasattr(a, "projection")]) == 2
    fig.savefig(tmp_path / "two_panels.png")  # drawing is when cartopy would download
    plt.close("all")


def test_regional_grid_across_the_antimeridian_stays_contiguous(no_network, tmp_path):
    lat = np.arange(-20.0, 21.0, 2.0)
    lon = np.arange(150.0, 211.0, 2.0)  # 150E .. 150W
    da = xr.DataArray(np.add.outer(lat, lon), dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                      attrs={"units": "1"})
    grid = plotting._normalise_grid(da)
    np.testing.assert_array_equal(grid["lon"].values, lon)  # not split into two far-apart halves
    ax = plotting.plot_map(da, extent=(140, 220, -25, 25), projection=plotting._projection(
        "platecarree", None, central_longitude=180.0))
    mesh_x = ax.landcarbon_mesh.get_coordinates()[..., 0]
    assert mesh_x.shape == (lat.size + 1, lon.size + 1)
    ax.figure.savefig(tmp_path / "pacific.png")
    plt.close(ax.figure)
    # a global 0..360 grid is converted to -180..180
    glob = _field(lon360=True)
    assert float(plotting._normalise_grid(glob)["lon"].min()) < 0


def test_source_banner_says_what_the_page_ran_on():
    from landcarbon.publish.notebook import source_banner_markdown

    demo = source_banner_markdown("demo:landcarbon.world.demo:demo_drivers@2022")
    mixed = source_banner_markdown(["real:" + "a" * 64, "demo:landcarbon.world.demo:demo_drivers@2022"])
    real = source_banner_markdown("real:" + "b" * 64)
    assert demo.startswith("```{warning} This page ran on DEMO data")
    assert mixed.startswith("```{warning} This page uses observations and DEMO data") and "aaaaaaaaaaaa" in mixed
    assert real.startswith("```{note} Data used on this page") and "DEMO" not in real


def test_demo_mark_sits_inside_the_axes_above_the_data():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from landcarbon.plotting import DEMO_MARK, mark_demo

    fig, (a, b) = plt.subplots(1, 2)
    a.bar([0, 1], [1.0, 10.0])
    b.plot([0, 1], [0, 1])
    b.set_ylim(0, 1)  # fixed limits are the author's choice: left alone
    texts = mark_demo(fig)
    fig.canvas.draw()
    assert [t.get_text() for t in texts] == [DEMO_MARK, DEMO_MARK]
    r = fig.canvas.get_renderer()
    mark = texts[0].get_window_extent(r)
    tallest = a.patches[1].get_window_extent(r)
    assert mark.y0 > tallest.y1 or mark.x1 < tallest.x0  # the stamp does not cover the tallest bar
    assert a.get_window_extent(r).contains(mark.x0 + 1, mark.y0 + 1)  # and stays inside the axes
    assert b.get_ylim() == (0, 1)
    plt.close(fig)


def test_gpp_monthly_bias_keeps_every_line_inside():
    import types

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from landcarbon.gpp.plots import plot_monthly_bias

    months = np.arange(1, 13)
    tab = lambda amp: pd.concat([pd.DataFrame({"class": c, "season_month": months,  # noqa: E731
                                               "bias_rel": a * np.sin(months)}) for c, a in amp.items()])
    exp = types.SimpleNamespace(amplitude=pd.DataFrame({"towers": [12, 30, 3]}, index=["OSH", "CRO", "WET"]),
                                bias_seasonal=tab({"OSH": 0.05, "CRO": 0.04, "WET": 0.9}),
                                bias_constant=tab({"OSH": 0.3, "CRO": 0.27, "WET": 0.1}))
    fig = plot_monthly_bias(exp)
    lo, hi = fig.axes[1].get_ylim()
    for ax in fig.axes:
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), float)
            assert lo <= np.nanmin(y) and np.nanmax(y) <= hi
    plt.close(fig)
