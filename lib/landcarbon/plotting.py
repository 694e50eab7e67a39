"""Plotting conventions shared by every chapter: style, colour-blind-safe colours, maps.

Colour choices: the Okabe–Ito qualitative palette (Okabe & Ito 2008, "Color Universal Design") for
methods/categories; perceptually uniform ``viridis``/``cividis`` for magnitudes and the diverging
``RdBu_r`` (ColorBrewer, colour-blind safe) for signed anomalies and trends.
"""
from __future__ import annotations

__all__ = ["OKABE_ITO", "METHOD_COLOURS", "SEQUENTIAL_CMAP", "DIVERGING_CMAP", "apply_style", "mark_demo", "DEMO_MARK"]

#: Okabe–Ito palette (black first), colour-blind safe.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]

#: Fixed colours per method, so a method looks the same in every chapter.
METHOD_COLOURS = {
    "truth": "#000000",
    "NT": "#0072B2",
    "DT": "#E69F00",
    "DT-RH": "#009E73",
    "LI": "#CC79A7",
    "RF": "#D55E00",
    "NN": "#56B4E9",
    "REddyProc": "#999999",
    "prior": "#999999",
    "posterior": "#0072B2",
    "top-down": "#0072B2",
    "bottom-up": "#009E73",
}

SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"


def apply_style() -> None:
    """Deterministic, readable matplotlib defaults (fixed DPI, Okabe–Ito cycle, no date-dependent text)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (7.5, 4.2),
        "axes.prop_cycle": cycler(color=OKABE_ITO[1:] + OKABE_ITO[:1]),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": SEQUENTIAL_CMAP,
        "legend.frameon": False,
        "font.size": 10,
        "svg.hashsalt": "landcarbon",  # deterministic SVG ids
    })


DEMO_MARK = "DEMO — synthetic data"


def mark_demo(target, text: str = DEMO_MARK, *, loc: str = "upper right", fontsize: float = 9.0):
    """Put a visible "DEMO — synthetic data" stamp inside the axes of a figure drawn from the demo twin.

    A screenshot of a demo figure must not pass for observations: the mark sits inside the plotting
    area (not in a caption that gets cropped away).

    Parameters
    ----------
    target : matplotlib Axes, sequence of Axes, or Figure
        A Figure marks every axes except colour bars.
    text : str
        The stamp (default :data:`DEMO_MARK`).
    loc : {"upper right", "upper left", "lower right", "lower left"}
        Corner of each axes.

    Returns
    -------
    list of the Text artists added (one per axes).
    """
    import matplotlib.figure

    if isinstance(target, matplotlib.figure.Figure):
        axes = [a for a in target.axes if a.get_label() != "<colorbar>"]
    elif isinstance(target, (list, tuple)) or hasattr(target, "flat"):
        axes = list(getattr(target, "flat", target))
    else:
        axes = [target]
    corners = {"upper right": (0.98, 0.97, "right", "top"), "upper left": (0.02, 0.97, "left", "top"),
               "lower right": (0.98, 0.03, "right", "bottom"), "lower left": (0.02, 0.03, "left", "bottom")}
    if loc not in corners:
        raise ValueError(f"loc must be one of {sorted(corners)}, not {loc!r}")
    x, y, ha, va = corners[loc]
    out = []
    for ax in axes:
        _make_room_for_the_mark(ax, top=loc.startswith("upper"))
        out.append(ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=fontsize, color="#B00020",
                           fontweight="bold", zorder=1000, gid="landcarbon-demo-mark",
                           bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#B00020",
                                 "alpha": 0.85, "linewidth": 0.8}))
    return out


def _make_room_for_the_mark(ax, *, top: bool, share: float = 0.14) -> None:
    """Extend an autoscaled linear y axis by ``share`` of its range on the mark's side, so that the stamp
    sits above (or below) the data instead of covering it. Maps and fixed or log axes are left alone."""
    import numpy as np

    if hasattr(ax, "projection") or not ax.get_autoscaley_on() or ax.get_yscale() != "linear":
        return
    lo, hi = ax.get_ylim()
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return
    pad = share * (hi - lo)
    ax.set_ylim(lo, hi + pad) if top else ax.set_ylim(lo - pad, hi)


# ---------------------------------------------------------------------------------------------------
# Offline maps (cartopy without downloads)
# ---------------------------------------------------------------------------------------------------
# cartopy's ``ax.coastlines()``, ``ax.add_feature(cfeature.BORDERS)`` and ``NaturalEarthFeature`` fetch
# shapefiles from the internet the first time they are drawn. The compendium must build offline and
# reproducibly, so maps draw coastlines and borders from the GeoJSON files shipped in
# ``landcarbon/data/embedded/maps`` (manifest entry ``map-outlines``: Natural Earth 1:110m, public
# domain, regenerated by ``tools/make_map_outlines.py``). Nothing here touches the network.

__all__ += ["read_map_outlines", "outline_geometries", "add_outlines", "map_axes", "plot_map", "CHINA_EXTENT"]

#: (lon_min, lon_max, lat_min, lat_max) of mainland China plus a margin, for regional maps.
CHINA_EXTENT = (72.0, 136.0, 17.0, 54.5)

_OUTLINE_KINDS = ("coastline", "border")


def _outline_kind(fc: dict, path) -> str:
    name = str(fc.get("name", "")) + " " + str(getattr(path, "name", path))
    kinds = {f.get("properties", {}).get("kind") for f in fc.get("features", [])}
    for kind in _OUTLINE_KINDS:
        if kinds == {kind} or kind in name:
            return kind
    from .errors import DataError, located

    raise DataError(located("cannot tell whether this GeoJSON holds coastlines or borders", where=str(path),
                            fix="features need properties.kind = 'coastline' or 'border' "
                                "(regenerate with tools/make_map_outlines.py)"))


def read_map_outlines(paths) -> "xarray.Dataset":
    """Read the coastline/border GeoJSON files into an :class:`xarray.Dataset` (manifest loader).

    Parameters
    ----------
    paths : list of path-like
        GeoJSON FeatureCollections of (Multi)LineStrings, each with ``properties.kind`` =
        ``"coastline"`` or ``"border"`` (borders also carry ``left``/``right`` country names),
        as written by ``tools/make_map_outlines.py``.

    Returns
    -------
    xarray.Dataset
        For each kind ``k`` in (coastline, border): variables ``k_lon``/``k_lat`` (degrees_east /
        degrees_north, dim ``k_vertex``) listing the vertices of all lines with a NaN row between
        two lines (the matplotlib convention for breaks), and ``k_line`` (int32, same dim: index of
        the feature the vertex belongs to, -1 on separators). Borders add ``border_left`` and
        ``border_right`` (dim ``border_feature``: the two countries sharing each border line).
        ``attrs["source_files"]`` lists the files.

    Raises
    ------
    DataError
        A file is not valid JSON / GeoJSON lines, or its kind cannot be determined.
    """
    import json
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from .errors import DataError, located

    parts: dict[str, dict[str, list]] = {k: {"lon": [], "lat": [], "line": [], "left": [], "right": []}
                                         for k in _OUTLINE_KINDS}
    files = [Path(p) for p in paths]
    for path in files:
        try:
            fc = json.loads(path.read_text(encoding="utf-8"))
            features = fc["features"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(located(f"not a readable GeoJSON FeatureCollection ({exc})", where=str(path),
                                    fix="regenerate the file with tools/make_map_outlines.py")) from exc
        kind = _outline_kind(fc, path)
        acc = parts[kind]
        for feature in features:
            geom = feature.get("geometry") or {}
            if geom.get("type") == "LineString":
                lines = [geom["coordinates"]]
            elif geom.get("type") == "MultiLineString":
                lines = geom["coordinates"]
            else:
                raise DataError(located(f"unsupported geometry type {geom.get('type')!r} (lines expected)",
                                        where=f"{path}: feature {len(acc['left'])}",
                                        fix="only LineString/MultiLineString outlines are supported"))
            fid = len(acc["left"])
            props = feature.get("properties") or {}
            acc["left"].append(str(props.get("left", "")))
            acc["right"].append(str(props.get("right", "")))
            for line in lines:
                arr = np.asarray(line, dtype="float64")
                if arr.ndim != 2 or arr.shape[1] < 2:
                    raise DataError(located("line coordinates must be [[lon, lat], ...]",
                                            where=f"{path}: feature {fid}"))
                acc["lon"] += [*arr[:, 0], np.nan]
                acc["lat"] += [*arr[:, 1], np.nan]
                acc["line"] += [fid] * len(arr) + [-1]
    data_vars = {}
    for kind, acc in parts.items():
        dim = f"{kind}_vertex"
        data_vars[f"{kind}_lon"] = (dim, np.asarray(acc["lon"], "float64"),
                                    {"units": "degrees_east", "long_name": f"{kind} longitude (NaN = break)"})
        data_vars[f"{kind}_lat"] = (dim, np.asarray(acc["lat"], "float64"),
                                    {"units": "degrees_north", "long_name": f"{kind} latitude (NaN = break)"})
        data_vars[f"{kind}_line"] = (dim, np.asarray(acc["line"], "int32"),
                                     {"long_name": f"index of the {kind} feature (-1 = break)"})
    data_vars["border_left"] = ("border_feature", np.asarray(parts["border"]["left"], dtype=object))
    data_vars["border_right"] = ("border_feature", np.asarray(parts["border"]["right"], dtype=object))
    return xr.Dataset(data_vars, attrs={
        "title": "Coastlines and country borders (Natural Earth 1:110m derived, see manifest 'map-outlines')",
        "source_files": ";".join(str(p) for p in files)})


_OUTLINES_CACHE: dict[str, object] = {}


def _map_outlines():
    """The shipped outlines (sha256-checked through the manifest); cached per process."""
    if "ds" not in _OUTLINES_CACHE:
        from .data import EMBEDDED_DIR, open_dataset
        from .errors import ManifestError

        try:
            ds = open_dataset("map-outlines", source="real")
        except ManifestError:  # package used without the repository's data_manifest.yaml
            ds = read_map_outlines([EMBEDDED_DIR / "maps" / "coastlines_110m.geojson",
                                    EMBEDDED_DIR / "maps" / "borders_110m.geojson"])
        _OUTLINES_CACHE["ds"] = ds
    return _OUTLINES_CACHE["ds"]


def outline_geometries(kind: str = "coastline", countries=None, outlines=None):
    """Shapely MultiLineString of the coastlines or borders (lon/lat degrees).

    Parameters
    ----------
    kind : {"coastline", "border"}
    countries : str or sequence of str, optional
        Borders only: keep the lines where one side is one of these countries (Natural Earth
        names, e.g. ``"China"``).
    outlines : xarray.Dataset, optional
        Output of :func:`read_map_outlines` (default: the shipped files).
    """
    import numpy as np
    from shapely.geometry import LineString, MultiLineString

    from .errors import ConfigError, located

    if kind not in _OUTLINE_KINDS:
        raise ConfigError(located(f"kind must be one of {_OUTLINE_KINDS}, not {kind!r}", where="outline_geometries"))
    ds = _map_outlines() if outlines is None else outlines
    lon = ds[f"{kind}_lon"].values
    lat = ds[f"{kind}_lat"].values
    line = ds[f"{kind}_line"].values
    keep = np.ones(line.shape, bool)
    if countries is not None:
        if kind != "border":
            raise ConfigError(located("countries= only applies to kind='border'", where="outline_geometries"))
        wanted = {countries} if isinstance(countries, str) else set(countries)
        left, right = ds["border_left"].values, ds["border_right"].values
        ok = np.array([a in wanted or b in wanted for a, b in zip(left, right)], bool)
        unknown = wanted - set(left) - set(right)
        if unknown:
            raise ConfigError(located(f"no border of {sorted(unknown)} in the outlines",
                                      where="outline_geometries(countries=...)",
                                      fix="use Natural Earth English names, e.g. 'China', 'India', 'Russia'"))
        keep = np.where(line >= 0, ok[np.clip(line, 0, None)], True)
    breaks = np.flatnonzero(np.isnan(lon))
    lines, start = [], 0
    for stop in breaks:
        if stop - start >= 2 and keep[start]:
            lines.append(LineString(np.column_stack([lon[start:stop], lat[start:stop]])))
        start = stop + 1
    return MultiLineString(lines)


def add_outlines(ax, coastlines: bool = True, borders: bool = True, *, color: str = "0.15",
                 linewidth: float = 0.6, border_color: str | None = None, border_linewidth: float | None = None,
                 border_linestyle="-", countries=None, zorder: float = 3):
    """Draw coastlines and/or country borders on a cartopy GeoAxes WITHOUT any download.

    Replaces ``ax.coastlines()`` / ``ax.add_feature(cartopy.feature.BORDERS)``, which fetch Natural Earth
    files from the internet. Lines come from the shipped ``map-outlines`` data (Natural Earth
    1:110m, public domain) and are projected and clipped by cartopy.

    Parameters
    ----------
    ax : cartopy.mpl.geoaxes.GeoAxes
    coastlines, borders : bool
        Which outlines to draw.
    color, linewidth : coastline style (borders default to the same colour, 0.7x the width).
    border_color, border_linewidth, border_linestyle : border style.
    countries : str or sequence of str, optional
        Draw only the borders of these countries (e.g. ``"China"``).
    zorder : float
        Above filled fields (pcolormesh has zorder 1) by default.

    Returns
    -------
    list
        The cartopy FeatureArtists added.
    """
    import cartopy.crs as ccrs

    from .errors import ConfigError, located

    if not hasattr(ax, "add_geometries"):
        raise ConfigError(located("add_outlines needs a cartopy GeoAxes", where=type(ax).__name__,
                                  fix="create the axes with landcarbon.plotting.map_axes()"))
    artists = []
    pc = ccrs.PlateCarree()
    if coastlines:
        geoms = outline_geometries("coastline")
        artists.append(ax.add_geometries([geoms], crs=pc, facecolor="none", edgecolor=color,
                                         linewidth=linewidth, zorder=zorder))
    if borders:
        geoms = outline_geometries("border", countries=countries)
        artists.append(ax.add_geometries([geoms], crs=pc, facecolor="none",
                                         edgecolor=border_color or color,
                                         linewidth=border_linewidth if border_linewidth is not None else 0.7 * linewidth,
                                         linestyle=border_linestyle, zorder=zorder))
    return artists


def _projection(projection, extent, central_longitude: float):
    import cartopy.crs as ccrs

    from .errors import ConfigError, located

    if projection is None:
        is_global = extent is None or (extent[1] - extent[0] >= 300 and extent[3] - extent[2] >= 120)
        projection = "robinson" if is_global else "platecarree"
    if isinstance(projection, str):
        names = {"robinson": ccrs.Robinson, "platecarree": ccrs.PlateCarree, "equalearth": ccrs.EqualEarth,
                 "mollweide": ccrs.Mollweide}
        key = projection.lower().replace("_", "").replace("-", "").replace(" ", "")
        if key not in names:
            raise ConfigError(located(f"unknown projection {projection!r}", where="map_axes(projection=...)",
                                      fix=f"use one of {sorted(names)} or a cartopy CRS instance"))
        return names[key](central_longitude=central_longitude)
    return projection


def map_axes(ax=None, projection=None, extent=None, *, coastlines: bool = True, borders: bool = True,
             gridlines: bool = True, grid_labels: bool | None = None, central_longitude: float = 0.0,
             figsize=None, outline_kw: dict | None = None):
    """A cartopy GeoAxes with offline coastlines/borders and gridlines (no download ever).

    Parameters
    ----------
    ax : matplotlib Axes or GeoAxes, optional
        A GeoAxes is used as is; a plain Axes is replaced by a GeoAxes in the same place;
        ``None`` creates a new figure.
    projection : cartopy CRS or {"robinson", "platecarree", "equalearth", "mollweide"}, optional
        Default: Robinson for global maps (``extent`` None or nearly global), PlateCarree otherwise.
    extent : (lon_min, lon_max, lat_min, lat_max), optional
        Degrees; e.g. :data:`CHINA_EXTENT`. Default: the whole globe.
    coastlines, borders : bool
        Draw the shipped outlines (see :func:`add_outlines`; ``outline_kw`` is passed to it).
    gridlines, grid_labels : bool
        Graticule every 30/60 degrees (automatic spacing for regional maps); labels default to on
        for PlateCarree maps only.
    central_longitude : float
        Of a projection given by name.
    figsize : (w, h) inches, optional
        Of a new figure (default: 7.5 x 4 for global maps, 6 x 5 for regional ones).
    """
    import cartopy.crs as ccrs
    import matplotlib.pyplot as plt

    proj = _projection(projection, extent, central_longitude)
    if ax is None:
        default_size = (7.5, 4.0) if extent is None else (6.0, 5.0)
        fig = plt.figure(figsize=figsize or default_size)
        ax = fig.add_subplot(1, 1, 1, projection=proj)
    elif not hasattr(ax, "add_geometries"):
        fig = ax.figure
        spec = ax.get_subplotspec()
        pos = ax.get_position()
        ax.remove()
        ax = fig.add_subplot(spec, projection=proj) if spec is not None else fig.add_axes(pos, projection=proj)
    ax.grid(False)  # matplotlib's own grid (apply_style) is meaningless in projected coordinates
    if extent is None:
        ax.set_global()
    else:
        ax.set_extent(list(extent), crs=ccrs.PlateCarree())
    if coastlines or borders:
        add_outlines(ax, coastlines=coastlines, borders=borders, **(outline_kw or {}))
    if gridlines:
        labels = isinstance(ax.projection, ccrs.PlateCarree) if grid_labels is None else grid_labels
        kw = dict(linewidth=0.4, color="0.5", alpha=0.5, linestyle=":")
        if extent is None:
            import matplotlib.ticker as mticker

            gl = ax.gridlines(draw_labels=labels, **kw)
            gl.xlocator = mticker.FixedLocator(range(-180, 181, 60))
            gl.ylocator = mticker.FixedLocator(range(-90, 91, 30))
        else:
            gl = ax.gridlines(draw_labels=labels, **kw)
        if labels:
            gl.top_labels = False
            gl.right_labels = False
    return ax


_LAT_NAMES = ("lat", "latitude", "y", "nav_lat")
_LON_NAMES = ("lon", "longitude", "x", "nav_lon")


def _lat_lon_names(da) -> tuple[str, str]:
    from .errors import DataError, located

    def find(names, what):
        for n in names:
            if n in da.dims:
                return n
        lowered = {d.lower(): d for d in da.dims}
        for n in names:
            if n in lowered:
                return lowered[n]
        raise DataError(located(f"no {what} dimension among {list(da.dims)}", where=f"variable {da.name!r}",
                                fix=f"name it one of {names} (e.g. da.rename({{'<dim>': '{names[0]}'}}))"))

    return find(_LAT_NAMES, "latitude"), find(_LON_NAMES, "longitude")


def _normalise_grid(da, name: str = "field"):
    """2-D (lat ascending, lon in [-180, 180) ascending) copy of ``da`` with dims renamed lat/lon."""
    import numpy as np

    from .errors import DataError, located

    lat, lon = _lat_lon_names(da)
    extra = [d for d in da.dims if d not in (lat, lon)]
    if extra:
        single = [d for d in extra if da.sizes[d] == 1]
        if len(single) < len(extra):
            raise DataError(located(f"{name} must be 2-D (lat, lon); it also has dims "
                                    f"{ {d: da.sizes[d] for d in extra if da.sizes[d] > 1} }",
                                    where=f"variable {da.name!r}",
                                    fix="select one slice first, e.g. da.isel(time=0) or da.mean('year')"))
        da = da.isel({d: 0 for d in single}, drop=True)
    da = da.rename({lat: "lat", lon: "lon"}).transpose("lat", "lon")
    lons = np.asarray(da["lon"].values, dtype="float64")
    if np.nanmax(lons) > 180.0:
        span = np.nanmax(lons) - np.nanmin(lons)
        step = np.nanmin(np.abs(np.diff(np.sort(lons)))) if lons.size > 1 else 0.0
        # global 0..360 grids and grids wholly east of 180 become -180..180; a regional grid across
        # the antimeridian (e.g. 150..210) keeps its contiguous 0..360 values (cartopy handles them)
        if span + step >= 359.0 or np.nanmin(lons) >= 180.0:
            da = da.assign_coords(lon=((lons + 180.0) % 360.0) - 180.0)
    da = da.sortby("lat").sortby("lon")
    if da["lon"].to_index().has_duplicates or da["lat"].to_index().has_duplicates:
        raise DataError(located(f"{name} has duplicate latitude/longitude values", where=f"variable {da.name!r}",
                                fix="a 0..360 grid must not repeat 0 and 360; drop the duplicate column"))
    return da


def _edges(centres):
    import numpy as np

    c = np.asarray(centres, dtype="float64")
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def plot_map(da, ax=None, *, cmap=None, vmin=None, vmax=None, centre=None, robust: bool = False,
             levels=None, stipple=None, stipple_step: int | None = None, stipple_kw: dict | None = None,
             cbar_label: str | None = None, title: str | None = None, colorbar: bool = True,
             projection=None, extent=None, coastlines: bool = True, borders: bool = True,
             cbar_kw: dict | None = None, **map_kw):
    """Map a 2-D lat/lon field (pcolormesh) with offline coastlines/borders, colour bar and stippling.

    Parameters
    ----------
    da : xarray.DataArray
        Dims lat/latitude and lon/longitude (+ singleton dims, dropped). Latitude ascending or
        descending; longitude -180..180 or 0..360 (converted); cell centres on a regular or irregular
        grid. ``attrs["units"]`` and ``long_name`` make the default colour-bar label.
    ax : Axes or GeoAxes, optional
        Passed to :func:`map_axes` together with ``projection``, ``extent``, ``coastlines``,
        ``borders`` and ``**map_kw``.
    cmap : str or Colormap, optional
        Default :data:`SEQUENTIAL_CMAP` (viridis), or :data:`DIVERGING_CMAP` (RdBu_r) when
        ``centre`` is given.
    vmin, vmax : float, optional
        Colour limits (default: data min/max, or the 2nd/98th percentiles with ``robust=True``).
    centre : float, optional
        Diverging map centred on this value (e.g. 0 for trends/anomalies): symmetric limits
        ``centre +- max(|vmin - centre|, |vmax - centre|)``.
    levels : int or sequence, optional
        Discrete colour classes (BoundaryNorm) instead of a continuous scale.
    stipple : xarray.DataArray of bool, optional
        Same grid as ``da`` (same normalisation is applied); dots mark True cells, e.g.
        significant trends. ``stipple_step`` thins the dots to every n-th cell in each direction
        (default: about 90 dots across the map); ``stipple_kw`` styles them.
    cbar_label, title : str, optional
    colorbar : bool
        Draw a horizontal colour bar below the map.

    Returns
    -------
    cartopy.mpl.geoaxes.GeoAxes
        The map; the pcolormesh (for a shared colour bar) is ``ax.landcarbon_mesh``.
    """
    import cartopy.crs as ccrs
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    import numpy as np

    from .errors import DataError, located

    field = _normalise_grid(da, "da")
    values = np.asarray(field.values, dtype="float64")
    shown = values
    if extent is not None:  # colour limits from the part of the field that is on the map
        lo_lon, hi_lon, lo_lat, hi_lat = (float(e) for e in extent)
        in_lat = (field["lat"].values >= lo_lat) & (field["lat"].values <= hi_lat)
        flon = field["lon"].values
        in_lon = ((flon >= lo_lon) & (flon <= hi_lon)) | ((flon - 360.0 >= lo_lon) & (flon - 360.0 <= hi_lon))
        if in_lat.any() and in_lon.any():
            shown = values[np.ix_(in_lat, in_lon)]
    finite = shown[np.isfinite(shown)]
    if robust and finite.size:
        lo, hi = np.percentile(finite, [2, 98])
    elif finite.size:
        lo, hi = float(finite.min()), float(finite.max())
    else:
        lo, hi = 0.0, 1.0
    lo = lo if vmin is None else vmin
    hi = hi if vmax is None else vmax
    if centre is not None:
        half = max(abs(lo - centre), abs(hi - centre)) or 1.0
        lo, hi = centre - half, centre + half
    if cmap is None:
        cmap = DIVERGING_CMAP if centre is not None else SEQUENTIAL_CMAP
    cmap_obj = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    if levels is not None:
        bounds = np.linspace(lo, hi, int(levels) + 1) if np.isscalar(levels) else np.asarray(levels, float)
        norm = mcolors.BoundaryNorm(bounds, cmap_obj.N, extend="both")
    else:
        norm = mcolors.Normalize(vmin=lo, vmax=hi)
    ax = map_axes(ax, projection=projection, extent=extent, coastlines=coastlines, borders=borders, **map_kw)
    lon_e = np.clip(_edges(field["lon"].values), -180.0, 180.0 if field["lon"].max() <= 180.0 else 360.0)
    lat_e = np.clip(_edges(field["lat"].values), -90.0, 90.0)
    mesh = ax.pcolormesh(lon_e, lat_e, np.ma.masked_invalid(values), cmap=cmap_obj, norm=norm,
                         transform=ccrs.PlateCarree(), shading="flat", rasterized=True, zorder=1)
    ax.landcarbon_mesh = mesh
    if stipple is not None:
        mask_da = _normalise_grid(stipple, "stipple")
        if mask_da.shape != field.shape or not (np.allclose(mask_da["lat"], field["lat"])
                                                 and np.allclose(mask_da["lon"], field["lon"])):
            raise DataError(located(f"stipple grid {dict(mask_da.sizes)} differs from the field grid "
                                    f"{dict(field.sizes)}", where="plot_map(stipple=...)",
                                    fix="pass a boolean DataArray on the same lat/lon grid as da"))
        mask = np.asarray(mask_da.values).astype(bool) & np.isfinite(values)
        step = stipple_step or max(1, int(np.ceil(field.sizes["lon"] / 90)))
        thin = np.zeros_like(mask)
        thin[::step, ::step] = True
        jj, ii = np.nonzero(mask & thin)
        kw = dict(s=1.5, c="k", marker=".", linewidths=0, zorder=2)
        kw.update(stipple_kw or {})
        ax.scatter(field["lon"].values[ii], field["lat"].values[jj], transform=ccrs.PlateCarree(), **kw)
    if colorbar:
        if cbar_label is None:
            long_name = da.attrs.get("long_name", da.name or "")
            units = da.attrs.get("units")
            cbar_label = f"{long_name} [{units}]" if units else str(long_name)
        extend = "neither"
        if finite.size:
            extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
                      (True, True): "both"}[(bool(finite.min() < lo), bool(finite.max() > hi))]
        kw = dict(orientation="horizontal", shrink=0.7, pad=0.06, extend=extend)
        kw.update(cbar_kw or {})
        cb = ax.figure.colorbar(mesh, ax=ax, **kw)
        cb.set_label(cbar_label)
    if title:
        ax.set_title(title)
    return ax
