"""Headline indicators of the footprint chapter (``summary.json`` through ``write_summary``)."""
from __future__ import annotations

import pandas as pd
import xarray as xr

from ..publish.reporting import Indicator

__all__ = ["indicators", "field_estimate", "combined_source"]


def combined_source(sources: dict[str, str]) -> str:
    """One ``data_source`` string from several "a; b" source strings, each source named once, in order."""
    parts = [p.strip() for v in sources.values() for p in str(v).split(";") if p.strip()]
    return "; ".join(dict.fromkeys(parts))


def field_estimate(landscape: xr.Dataset, clim: xr.DataArray) -> dict:
    """Footprint-weighted NDVI, pixel NDVI and location bias of a field twin estimated on the grid."""
    from .representativeness import footprint_weighted_mean, location_bias, pixel_weights

    ndvi_fp = footprint_weighted_mean(landscape["NDVI"], clim)
    pix = pixel_weights(clim, centre_m=landscape.attrs["pixel_centre_m"], size_m=landscape.attrs["pixel_size_m"])
    ndvi_px = float((pix * landscape["NDVI"]).sum() / pix.sum())
    return {"ndvi_footprint": ndvi_fp, "ndvi_pixel": ndvi_px, "location_bias": float(location_bias(ndvi_fp, ndvi_px))}


def indicators(*, site_clim: xr.DataArray, site_area80_m2: float, field_truth: dict, field_est: dict,
               sizes: pd.DataFrame, table: pd.DataFrame, pixel_size_m: float, network: xr.Dataset,
               network_all: xr.Dataset, sources: dict[str, str]) -> dict[str, Indicator]:
    """Indicators with value, units, description and the source each was computed from.

    ``sources`` maps "twin" (demo turbulence and landscapes), "heights" (the site table), "towers" (site
    table + twin turbulence) and "network" (site table + climate grid) to source strings.
    """
    pixel_area = pixel_size_m**2
    n_valid = int(table["ffp_valid"].sum())
    big = int((sizes["area80_m2"] > pixel_area).sum())
    return {
        "site_area80_km2": Indicator(site_area80_m2 / 1e6, "km2", "Area of the 80 % source area of the demo forest "
                                     f"tower's footprint climatology ({site_clim.attrs['n_valid']} valid of "
                                     f"{site_clim.attrs['n_total']} half-hours)", source=sources["twin"]),
        "location_bias_true": Indicator(field_truth["location_bias"], "1", "Planted NDVI location bias of the field "
                                        "twin, truth by quadrature: (NDVI_footprint - NDVI_pixel) / NDVI_pixel",
                                        source=sources["twin"]),
        "location_bias_estimate": Indicator(field_est["location_bias"], "1", "NDVI location bias of the field twin "
                                            "estimated from the gridded footprint climatology", source=sources["twin"]),
        "location_bias_error": Indicator(abs(field_est["location_bias"] - field_truth["location_bias"]), "1",
                                         "Absolute error of the estimated location bias against the planted truth",
                                         source=sources["twin"]),
        "towers_ffp_valid": Indicator(n_valid, "1", f"Towers (of {len(table)} with heights in the site table) whose "
                                      "measurement height is above the roughness sublayer (z_m > 12.5 z0, z0 = 0.1 h_c)",
                                      source=sources["heights"]),
        "towers_footprint_beyond_pixel": Indicator(big / len(sizes), "1", f"Share of the {len(sizes)} FFP-valid towers "
                                                   f"whose 80 % source area is larger than a {pixel_size_m:g} m pixel "
                                                   "(twin turbulence at the towers' real heights)",
                                                   source=sources["towers"]),
        "network_represented": Indicator(network.attrs["represented_fraction"], "1", f"Share of the land area within "
                                         f"{network.attrs['threshold']:g} SD of one of the {network.sizes['site']} "
                                         "half-hourly towers in climate space (MAT, log MAP)", source=sources["network"]),
        "network_all_represented": Indicator(network_all.attrs["represented_fraction"], "1", "The same for all "
                                             f"{network_all.sizes['site']} sites of the site table",
                                             source=sources["network"]),
    }
