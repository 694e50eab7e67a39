"""The chapters' headline figures: saving them legibly for the front page (:func:`save_headline_figure`,
which enlarges text under :data:`READABLE_FONT_PT` and records the smallest font in the PNG),
reading that record back (:func:`figure_font_metadata`), and the front page's block of figures.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..paths import results_dir
from .display import _SOURCE_WORDS, _link, _md_escape, chapter_titles, source_kind

#: PNG text key under which :func:`save_headline_figure` records the smallest font size drawn [pt].
MIN_FONT_PT_KEY = "landcarbon:min_font_pt"


def _min_font_pt(fig) -> float | None:
    """Smallest font size [pt] of the visible, non-empty text of a drawn figure."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0]
    return min(sizes) if sizes else None


#: Smallest legible text on the front page at 1400 px [pt] (the browser test's limit is 9 pt).
READABLE_FONT_PT = 9.5
#: Widest a front-page figure is shown at a 1400 px window [CSS px] (the article column of the theme);
#: wider figures are shrunk to it, so their text must be drawn larger.
FRONT_PAGE_COLUMN_PX = 1008


def save_headline_figure(fig, path: Path | str, *, dpi: float = 100, **savefig_kw) -> Path:
    """Save a chapter's headline figure as PNG with what the report needs to show it legibly.

    Text drawn smaller than what stays legible on the front page is enlarged before saving: the front
    page shows the figure at 96/dpi of its pixel size (never enlarged), shrunk to the article column
    (:data:`FRONT_PAGE_COLUMN_PX`) when wider, and the browser test checks at 1400 px that no label ends
    up under 9 pt: rendered size [pt] = font size [pt] × dpi × (shown width / pixel width) / 96.
    A figure with a layout engine (``layout="constrained"``) is laid out again; ``bbox_inches="tight"``
    is the default, so enlarged labels are not cut off.

    The PNG records its resolution (``dpi``) and the smallest font size drawn in it
    (text key ``landcarbon:min_font_pt``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path of the PNG (``results/<analysis>/figures/headline.png``); folders are created.
    dpi : float
        Resolution [dots per inch]; 100 shows 1 figure inch as ~1 inch on a 96-dpi screen.
    **savefig_kw
        Passed to ``fig.savefig``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    savefig_kw.setdefault("bbox_inches", "tight")
    _enlarge_small_text(fig, READABLE_FONT_PT * max(1.0, fig.get_figwidth() * 96 / FRONT_PAGE_COLUMN_PX))
    size = _min_font_pt(fig)
    meta = dict(savefig_kw.pop("metadata", None) or {})
    if size is not None:
        meta[MIN_FONT_PT_KEY] = f"{size:.2f}"
    fig.savefig(path, dpi=dpi, format="png", metadata=meta, **savefig_kw)
    return path


def _enlarge_small_text(fig, floor_pt: float) -> None:
    """Raise every visible text of ``fig`` smaller than ``floor_pt`` to it (tick labels included)."""
    from matplotlib.text import Text

    fig.canvas.draw()  # creates the tick labels that exist only once drawn
    changed = False
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_fontsize() < floor_pt:
            t.set_fontsize(floor_pt)
            changed = True
    for ax in fig.get_axes() if changed else ():
        for axis in (ax.xaxis, ax.yaxis):  # ticks made at the next draw take their size from here
            labels = axis.get_ticklabels(which="both")
            axis.set_tick_params(which="both", labelsize=max([floor_pt] + [t.get_fontsize() for t in labels]))
    if changed and fig.get_layout_engine() is not None:
        fig.canvas.draw()


def figure_font_metadata(png: Path | str) -> dict[str, float | None]:
    """``{"dpi", "min_font_pt", "width_px", "height_px"}`` of a PNG (None where not recorded)."""
    from PIL import Image

    with Image.open(png) as im:
        dpi = im.info.get("dpi", (None,))[0]
        font = im.info.get(MIN_FONT_PT_KEY)
        return {"dpi": float(dpi) if dpi else None, "min_font_pt": float(font) if font else None,
                "width_px": im.width, "height_px": im.height}


def _headlines_md(root: Path, book: Path) -> str:
    from ..pipeline import load_analyses

    fig_dir = book / "generated" / "figures"
    if fig_dir.exists():
        shutil.rmtree(fig_dir)
    fig_dir.mkdir(parents=True)
    titles = chapter_titles(root)
    blocks = []
    for a in sorted(load_analyses(root).values(), key=lambda a: a.notebook):  # chapter order
        s = results_dir(a.name) / "summary.json"
        if not s.is_file():
            continue
        doc = json.loads(s.read_text(encoding="utf-8"))
        hf = doc.get("headline_figure")
        if not hf:
            continue
        src = results_dir(a.name) / hf["file"]
        if not src.is_file():
            continue
        dst = fig_dir / f"{a.name}{src.suffix}"
        shutil.copyfile(src, dst)
        kind = source_kind(doc.get("data_source", ""))
        meta = figure_font_metadata(dst)
        # native size in CSS pixels (a 100-dpi PNG is shown ~1:1); never enlarged, shrunk only to fit
        width_px = int(round(meta["width_px"] * 96 / meta["dpi"])) if meta["dpi"] else meta["width_px"]
        caption = _md_escape(hf.get("caption", a.title))
        blocks.append((kind == "demo", f"```{{figure}} /generated/figures/{dst.name}\n:name: headline-{a.name}\n"
                                       f":width: {width_px}px\n:figclass: lc-headline-figure\n\n"
                                       f"{caption} *{_SOURCE_WORDS[kind].capitalize()}; from "
                                       f"{_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])}.*\n```\n"))
    blocks.sort(key=lambda b: b[0])  # observations and published values first
    return "\n".join(b for _, b in blocks)
