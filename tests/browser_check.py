"""Check a built static site (the Jupyter Book report) in headless Chromium, as a reader would see it.

Reusable machinery for ``tests/test_report_browser.py`` (and for anyone who wants to check a site by
hand: ``.venv/bin/python tests/browser_check.py book/_build/html``).

How it works
------------
* The site folder is served by :mod:`http.server` on ``127.0.0.1`` (a free port); every request
  and its status code is recorded.
* Debian's ``chromium`` (never a downloaded browser) is started headless with its DevTools port
  and driven over the Chrome DevTools Protocol with ``websocket-client`` (no Playwright needed).
  Flags: ``--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync`` (+ a private
  profile folder and ``--no-proxy-server``). The HTTP cache is disabled, so every page load is cold.
* Starting at ``index.html`` every internal page reachable through links is visited (breadth
  first), then every other ``*.html`` file of the site outside ``_*`` folders (search, index,
  orphans); a meta-refresh page (jupyter-book's ``index.html`` when the root page has another name)
  counts as a redirect to its target. Non-HTML internal links (downloads, notebooks, ...) are
  fetched from the local server.

A page fails on
---------------
``missing-image``      an ``<img>`` whose ``naturalWidth`` is 0 after loading (lazy images forced eager)
``broken-link``        an internal link or resource answered with HTTP >= 400 by the local server
``broken-anchor``      an internal link ``page.html#id`` whose target page has no element ``id``
``js-error``           an uncaught JavaScript exception, a ``console.error`` or a browser error log entry
``external-request``   any request to a host other than 127.0.0.1/localhost (e.g. a MathJax CDN)
``unrendered-math``    a ``.math`` element (Sphinx's math markup) that MathJax did not typeset, or
                       a "Math Processing Error"
``nan``                the word "nan" (case-insensitive, whole word) in the text outside source code
                       (code cells, literal blocks, inline ``code``; cell outputs ARE checked),
                       bibliography entries and elements of class ``nan-check-skip``: a missing
                       indicator value. Prose that must mention NaN writes it as inline code.
``caption-without-figure``  a figure caption — a paragraph that starts with "Figure" in italics, as the
                       chapters write them, or a ``<figcaption>`` — with no rendered image between it
                       and the previous caption (or its ``<figure>``); the detail gives the counts
``traceback``          a Python traceback or an error output of a notebook cell on the page
``internal-vocabulary``  words of the project's kitchen on a reader's page: "seed study", "seed 00N",
                       "science brief", "the slides" (visible text, code included)
``plumbing``           a visible code cell that is bookkeeping, not reading: papermill's injected
                       parameters, a ``parameters`` cell, a cell of imports and warning filters only,
                       ``write_summary``/``glue_indicators`` calls (hide them with the cell tags
                       ``remove-input``/``remove-cell``)
``double-numbering``   a heading numbered twice ("3.3. 3. Global and zonal totals")
``absolute-path``      a path of the build machine (given as ``forbidden_text``) in a page's text
``overflow``           at the phone width (400 px) the page is wider than the screen
                       (``document.documentElement.scrollWidth > innerWidth``); offenders named
``front-page-order``   the front page does not show the key messages (3–5) within the first screen at
                       1400 px, or a demo row comes before the end of the headline table
``unreadable-figure``  a front-page headline figure whose smallest text ends up under 9 pt at 1400 px
                       (PNG text key ``landcarbon:min_font_pt`` and its dpi, see
                       ``landcarbon.publish.report.save_headline_figure``), or that does not record it
``slow-front-page``    the front page's load event later than ``max_front_page_seconds`` (2 s) on both of
                       two loads (the second one with a warm browser process); on a machine whose load
                       average exceeds its cores the limit grows in proportion (shared CI machines)
``site-too-large``     the whole site folder above ``max_site_bytes`` (50 MB, measured with os.walk)

Screenshots of the front page and of every chapter (pages under ``analyses/``) at 1400 px and 400 px
are written to ``screenshot_dir`` as ``front_page_1400.png``, ``front_page_400.png``,
``<chapter>_1400.png``, ``<chapter>_400.png``.
"""
from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
    "--hide-scrollbars", "--no-proxy-server", "--disable-features=Translate,MediaRouter,OptimizationHints",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
MAX_SITE_BYTES = 50 * 1024 * 1024
MAX_FRONT_PAGE_SECONDS = 2.0
DESKTOP_WIDTH, PHONE_WIDTH, SCREEN_HEIGHT = 1400, 400, 900
MIN_FIGURE_FONT_PT = 9.0
#: words of the project's kitchen that must never reach a reader's page
INTERNAL_VOCABULARY = (r"seed stud(?:y|ies)", r"\bseed 0\d\d\b", r"science brief", r"\bthe slides\b")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable: env ``LANDCARBON_CHROMIUM``, else ``chromium`` on PATH, ..."""
    env = os.environ.get("LANDCARBON_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def site_size_bytes(site: Path) -> int:
    """Total size of all files below ``site`` (os.walk, symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(site):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


# ------------------------------------------------------------------------------------------------
# local web server
# ------------------------------------------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list  # (path, status), set per server

    def log_message(self, fmt, *args):  # quiet
        pass

    def log_request(self, code="-", size="-"):
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = getattr(code, "value", 0)
        self.server.request_log.append((urllib.parse.unquote(self.path), status))

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # the browser cancels requests when it navigates on; a reset connection is not a site problem
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path):
    """Serve ``site`` on 127.0.0.1 (free port); yields ``(base_url, request_log)``."""
    handler = functools.partial(_Handler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
    server.request_log = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", server.request_log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------------------------
# Chromium over the DevTools protocol
# ------------------------------------------------------------------------------------------------

class BrowserError(RuntimeError):
    """Chromium could not be started or stopped answering."""


class Chromium:
    """A headless Chromium process and one page, driven through the DevTools protocol."""

    def __init__(self, executable: str, *, width: int = DESKTOP_WIDTH, height: int = SCREEN_HEIGHT,
                 timeout: float = 30.0):
        import websocket  # websocket-client

        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="landcarbon_chromium_")
        cmd = [executable, *CHROMIUM_FLAGS, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
               f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = Path(self._profile) / "DevToolsActivePort"
        t0 = time.monotonic()
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                self._cleanup()
                raise BrowserError(f"chromium exited with code {self.proc.returncode}: {err}")
            if time.monotonic() - t0 > timeout:
                self.close()
                raise BrowserError(f"chromium did not open its DevTools port within {timeout} s")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"http://127.0.0.1:{port}/json/list", timeout=timeout))
        page = next((t for t in targets if t.get("type") == "page"), None)
        if page is None:
            self.close()
            raise BrowserError("chromium has no page target")
        # our own socket: the DevTools connection never goes through an http(s)_proxy from the environment
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True,
                                              socket=sock)
        self._id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")
        self.call("Network.setCacheDisabled", cacheDisabled=True)
        self.width, self.height, self.mobile = width, height, False
        self.set_viewport(width, height)

    # -- protocol ------------------------------------------------------------------------------
    def call(self, method: str, timeout: float | None = None, **params):
        self._id += 1
        my_id = self._id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._recv(deadline, what=method)
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def _recv(self, deadline: float, what: str) -> dict:
        import websocket

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrowserError(f"timeout waiting for {what}")
        self.ws.settimeout(remaining)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException as exc:
            raise BrowserError(f"timeout waiting for {what}") from exc

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        for ev in self.events:
            if ev["method"] == method:
                return ev
        while True:
            msg = self._recv(deadline, what=method)
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg

    def evaluate(self, expression: str, timeout: float | None = None):
        res = self.call("Runtime.evaluate", timeout=timeout, expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise BrowserError(f"evaluation failed: {res['exceptionDetails'].get('text')} "
                               f"{res['exceptionDetails'].get('exception', {}).get('description', '')}")
        return res.get("result", {}).get("value")

    def navigate(self, url: str, timeout: float | None = None) -> float:
        """Load ``url``; return seconds until the load event. Events of the page are in ``self.events``."""
        self.events = []
        t0 = time.monotonic()
        res = self.call("Page.navigate", url=url)
        if res.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {res['errorText']}")
        self.wait_event("Page.loadEventFired", timeout=timeout)
        return time.monotonic() - t0

    def set_viewport(self, width: int, height: int | None = None, *, mobile: bool | None = None) -> None:
        """Emulate a window ``width`` CSS pixels wide. Not as a "mobile" device by default: a mobile
        viewport without ``<meta name=viewport>`` would lay out 980 px wide and hide an overflow."""
        self.width, self.height = width, height or self.height
        self.mobile = False if mobile is None else mobile
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height, deviceScaleFactor=1,
                  mobile=self.mobile)

    def screenshot(self, path: Path, full_page: bool = False, max_height: int = 12000) -> Path:
        """PNG of the viewport, or of the whole page (up to ``max_height`` px) at the current width."""
        width, height = self.width, self.height
        if full_page:  # grow the viewport to the page, so that fixed headers and sidebars lay out as on screen
            h = int(self.evaluate(f"Math.min(document.documentElement.scrollHeight, {max_height})") or height)
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=max(h, height), deviceScaleFactor=1,
                      mobile=self.mobile)
            self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        try:
            data = self.call("Page.captureScreenshot", format="png")["data"]
        finally:
            if full_page:
                self.set_viewport(width, height, mobile=self.mobile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("Browser.close", timeout=5)
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------------------------
# page inspection (runs inside the page)
# ------------------------------------------------------------------------------------------------

_WAIT_MATHJAX_JS = r"""
(async () => {
  const t0 = Date.now();
  const hasMath = () => document.querySelector('.math, mjx-container, script[type^="math/tex"]') !== null;
  while (Date.now() - t0 < %(timeout_ms)d) {
    if (!hasMath()) return 'no-math';
    const MJ = window.MathJax;
    // after the load event MathJax's script has run; a bare configuration object means it never loaded
    if (Date.now() - t0 > 3000 && (!MJ || !(MJ.startup || MJ.Hub))) return MJ ? 'not-loaded' : 'no-mathjax';
    if (MJ && MJ.startup && MJ.startup.promise) { await MJ.startup.promise;
      if (MJ.typesetPromise) { await MJ.typesetPromise(); } return 'mathjax3'; }
    if (MJ && MJ.Hub && MJ.isReady) { await new Promise(r => MJ.Hub.Queue([r])); return 'mathjax2'; }
    await new Promise(r => setTimeout(r, 50));
  }
  return window.MathJax ? 'timeout' : 'no-mathjax';
})()
"""

_INSPECT_JS = r"""
(async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { if (i.loading === 'lazy') { i.loading = 'eager'; } });
  await Promise.all(imgs.map(i => (i.complete ? Promise.resolve() : i.decode()).catch(() => null)));
  const images = imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, complete: i.complete,
                                 alt: i.alt || ''}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  const resources = Array.from(document.querySelectorAll('link[href]')).map(l => l.href)
        .concat(Array.from(document.querySelectorAll('script[src]')).map(s => s.src));
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id)
        .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.name));
  // Sphinx's math markup; MathJax 2 also uses class "math" for its own inner spans, which are skipped
  const rendered = '.MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG, .MathJax_SVG_Display, mjx-container';
  const mathEls = Array.from(document.querySelectorAll('.math')).filter(m => !m.parentElement.closest(rendered));
  const unrendered = mathEls.filter(m => !m.querySelector(
      'mjx-container, .MathJax, .MathJax_CHTML, .MathJax_SVG, .MathJax_Display, .MathJax_Preview + script, svg'))
      .map(m => m.textContent.trim().slice(0, 80));
  const mathErrors = Array.from(document.querySelectorAll('.MathJax_Error, merror, mjx-merror'))
      .map(e => e.textContent.trim().slice(0, 80));
  if (document.body && document.body.innerText.includes('Math Processing Error')) mathErrors.push('Math Processing Error');
  // visible text without source code (code cells, literal blocks, inline code); outputs are kept
  const clone = document.body ? document.body.cloneNode(true) : null;
  let text = '';
  if (clone) {
    clone.querySelectorAll('script, style, noscript, .cell_input, div.highlight, code, .MathJax, mjx-container')
         .forEach(e => { if (!e.closest('.cell_output, .output')) e.remove(); });
    // bibliography entries (authors named Nan) and explicitly exempted elements
    clone.querySelectorAll('.bibliography, .citation, dl.citation, .nan-check-skip').forEach(e => e.remove());
    text = clone.innerText || clone.textContent || '';
  }
  const nan = [];
  const re = /(^|[^A-Za-z0-9_])(nan)(?![A-Za-z0-9_])/gi;
  let m;
  while ((m = re.exec(text)) !== null && nan.length < 10) {
    nan.push(text.slice(Math.max(0, m.index - 40), m.index + 45).replace(/\s+/g, ' '));
  }
  const nav = performance.getEntriesByType('navigation')[0];
  const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const article = document.querySelector('article, .bd-article, main, [role=main]') || document.body;
  // figures: every caption needs a rendered image after the previous caption (document order)
  const isCaption = e => (e.tagName === 'FIGCAPTION') ||
      (e.tagName === 'P' && e.firstElementChild && e.firstElementChild.tagName === 'EM' &&
       /^\s*Figure\b/.test(e.textContent) && /^\s*Figure\b/.test(e.firstElementChild.textContent));
  const captions = [];
  let since = 0, nImages = 0;
  if (article) {
    for (const e of article.querySelectorAll('img, p, figcaption')) {
      if (e.tagName === 'IMG') {
        if (e.naturalWidth > 0 && visible(e) && !e.closest('a.lc-binder, .logo, nav')) { since += 1; nImages += 1; }
        continue;
      }
      if (!isCaption(e) || !visible(e)) continue;
      let ok = since > 0;
      if (e.tagName === 'FIGCAPTION') {
        const fig = e.closest('figure');
        ok = !!fig && Array.from(fig.querySelectorAll('img')).some(i => i.naturalWidth > 0);
      }
      captions.push({text: e.textContent.trim().replace(/\s+/g, ' ').slice(0, 90), ok});
      since = 0;
    }
  }
  // visible code cells (input side only)
  const codeCells = Array.from(document.querySelectorAll('.cell_input, div.cell > div.highlight'))
      .filter(e => visible(e) && !e.closest('.cell_output, details:not([open])'))
      .map(e => (e.innerText || e.textContent || '').slice(0, 3000));
  const allText = document.body ? (document.body.innerText || '') : '';
  const errorOutputs = Array.from(document.querySelectorAll('.cell_output .traceback, .cell_output .output.error, .output.traceback'))
      .filter(visible).map(e => e.textContent.trim().slice(0, 200));
  const headings = Array.from(article.querySelectorAll('h1, h2, h3, h4'))
      .map(h => h.textContent.replace(/[#¶]\s*$/, '').trim().replace(/\s+/g, ' '));
  // front-page layout (document coordinates)
  const docTop = e => e.getBoundingClientRect().top + window.scrollY;
  const docBottom = e => e.getBoundingClientRect().bottom + window.scrollY;
  const km = document.querySelector('.lc-key-messages');
  const headSection = document.getElementById('headline-estimates');
  const headTable = headSection ? headSection.querySelector('table') : null;
  const demoRows = Array.from(document.querySelectorAll('tr')).filter(tr => tr.querySelector('.lc-demo'));
  const front = {innerHeight: window.innerHeight,
    keyMessages: km ? {top: docTop(km), bottom: docBottom(km), items: km.querySelectorAll('li').length} : null,
    headlineTable: headTable ? {top: docTop(headTable), bottom: docBottom(headTable),
                                rows: headTable.querySelectorAll('tbody tr').length} : null,
    firstDemoRow: demoRows.length ? Math.min(...demoRows.map(docTop)) : null};
  const headlineFigures = Array.from(document.querySelectorAll('figure.lc-headline-figure img')).map(i => ({
      src: i.currentSrc || i.src, naturalWidth: i.naturalWidth, shownWidth: i.getBoundingClientRect().width}));
  return {title: document.title, images, links, resources, ids, mathCount: mathEls.length, unrendered, mathErrors,
          nan, loadEventEnd: nav ? nav.loadEventEnd : null, domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
          hasMain: document.querySelector('main, [role=main], article') !== null,
          captions, nImages, codeCells, allText, errorOutputs, headings, front, headlineFigures};
})()
"""

# run at the phone width: is anything wider than the screen?
_OVERFLOW_JS = r"""
(async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const de = document.documentElement, W = window.innerWidth;
  const out = {scrollWidth: de.scrollWidth, innerWidth: W, offenders: []};
  if (de.scrollWidth <= W) return out;
  // an element inside a scrolling/clipping box, or in a fixed (off-canvas) drawer, cannot widen the page
  const clipped = e => { if (getComputedStyle(e).position === 'fixed') return true;
      for (let p = e.parentElement; p; p = p.parentElement) {
        const cs = getComputedStyle(p);
        if (cs.position === 'fixed') return true;
        if (cs.overflowX !== 'visible' && p !== document.body && p !== de) return true; }
      return false; };
  const wide = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right > W + 1 && r.width > 0 && !clipped(e)) { wide.push(e); if (wide.length > 400) break; }
  }
  // name the innermost offenders (their ancestors are only wide because of them)
  for (const e of wide.filter(e => !wide.some(o => o !== e && e.contains(o))).slice(0, 5)) {
    const cls = (typeof e.className === 'string' && e.className.trim()) ? '.' + e.className.trim().split(/\s+/).slice(0, 2).join('.') : '';
    const txt = (e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    out.offenders.push(`${e.tagName.toLowerCase()}${cls} "${txt}" (right edge ${Math.round(e.getBoundingClientRect().right)} px)`);
  }
  return out;
})()
"""


@dataclass
class Problem:
    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.page}: {self.detail}"


@dataclass
class SiteReport:
    site: Path
    pages: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    load_seconds: dict[str, float] = field(default_factory=dict)
    math_status: dict[str, str] = field(default_factory=dict)
    site_bytes: int = 0
    screenshots: list[Path] = field(default_factory=list)
    requests: int = 0
    front_page: str | None = None
    redirects: dict[str, str] = field(default_factory=dict)

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}

    def summary(self) -> str:
        front = self.load_seconds.get(self.front_page or "")
        lines = [f"site {self.site}: {len(self.pages)} pages, {self.site_bytes / 1e6:.1f} MB, "
                 f"{self.requests} local requests, front page {self.front_page} load "
                 + (f"{front:.2f} s" if front is not None else "n/a")
                 + (f", redirects {self.redirects}" if self.redirects else ""),
                 f"screenshots: {', '.join(str(s) for s in self.screenshots) or 'none'}"]
        lines += [str(p) for p in self.problems[:60]]
        if len(self.problems) > 60:
            lines.append(f"... and {len(self.problems) - 60} more problems")
        return "\n".join(lines)


def _is_local(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("data", "blob", "about", "javascript", "chrome", "devtools", "chrome-extension", ""):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


def _page_key(url: str, base: str) -> str | None:
    """Site-relative path of an internal URL without query/fragment ('' -> 'index.html'), else None."""
    if not url.startswith(base):
        return None
    rel = urllib.parse.unquote(urllib.parse.urlsplit(url[len(base) - 1:]).path.lstrip("/"))
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return rel


def check_site(site: Path | str, *, screenshot_dir: Path | str | None = None, chapter: str | None = None,
               chromium: str | None = None, max_pages: int = 400, max_site_bytes: int = MAX_SITE_BYTES,
               max_front_page_seconds: float = MAX_FRONT_PAGE_SECONDS, mathjax_timeout: float = 10.0,
               check_anchors: bool = True, forbidden_text: tuple[str, ...] = (),
               chapter_prefix: str = "analyses/") -> SiteReport:
    """Visit every internal page of the static site in ``site`` and report problems.

    Parameters
    ----------
    site : path
        Folder with ``index.html`` (e.g. ``book/_build/html``).
    screenshot_dir : path, optional
        Where to save the screenshots of the front page and of the chapters at both widths.
    chapter : str, optional
        Another site-relative page to screenshot as a chapter (chapters are the pages whose path
        starts with ``chapter_prefix``; when there are none, the second page visited).
    chromium : str, optional
        Browser executable (default :func:`find_chromium`).
    forbidden_text : strings that must not appear in any page's text (absolute paths of the build machine).

    Returns
    -------
    SiteReport
        ``problems`` is empty when the site passes every check listed in the module docstring.
    """
    site = Path(site)
    report = SiteReport(site=site)
    if not (site / "index.html").is_file():
        report.problems.append(Problem("index.html", "missing-site", f"no index.html in {site}"))
        return report
    report.site_bytes = site_size_bytes(site)
    if report.site_bytes > max_site_bytes:
        report.problems.append(Problem(".", "site-too-large",
                                       f"{report.site_bytes:,} bytes ({report.site_bytes / 2**20:.1f} MiB) > "
                                       f"{max_site_bytes:,} bytes"))
    exe = chromium or find_chromium()
    if exe is None:
        raise BrowserError("no chromium executable found (install Debian's `chromium`)")
    shots = Path(screenshot_dir) if screenshot_dir is not None else None
    forbidden = tuple(t for t in forbidden_text if t)
    with serve(site) as (base, request_log), Chromium(exe) as browser:
        queue = deque(["index.html"])
        seen = {"index.html"}
        page_ids: dict[str, set[str]] = {}
        anchors: list[tuple[str, str, str]] = []  # (from page, target page, fragment)
        other_links: dict[str, str] = {}  # non-html target -> first page linking to it
        referrer: dict[str, str] = {}  # page -> first page linking to it
        front = "index.html"
        shot_pages: list[str] = []
        on_disk = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                         if not any(part.startswith(("_", ".")) for part in p.relative_to(site).parts))
        while len(report.pages) < max_pages:
            if not queue:  # pages no link leads to (search.html, genindex.html, orphans) are visited too
                queue.extend(p for p in on_disk if p not in seen)
                seen.update(queue)
                if not queue:
                    break
            page = queue.popleft()
            url = urllib.parse.urljoin(base, urllib.parse.quote(page))
            if not (site / page).is_file():
                report.problems.append(Problem(referrer.get(page, "?"), "broken-link",
                                               f"{page} -> HTTP 404 (no such file in the site)"))
                continue
            target = _meta_refresh_target(site / page)
            if target is not None:  # a redirect page (jupyter-book's index.html when the root is not index)
                key = _page_key(urllib.parse.urljoin(url, target), base)
                report.redirects[page] = key or target
                if key is None or not (site / key).is_file():
                    report.problems.append(Problem(page, "broken-link", f"redirects to a missing page {target!r}"))
                elif key not in seen:
                    seen.add(key)
                    queue.append(key)
                if page == front and key:
                    front = key
                continue
            n_log = len(request_log)
            try:
                seconds = browser.navigate(url)
            except BrowserError as exc:
                report.problems.append(Problem(page, "js-error", f"page did not load: {exc}"))
                continue
            report.pages.append(page)
            report.load_seconds[page] = seconds
            report.math_status[page] = browser.evaluate(_WAIT_MATHJAX_JS % {"timeout_ms": int(mathjax_timeout * 1000)},
                                                        timeout=mathjax_timeout + 10)
            info = browser.evaluate(_INSPECT_JS, timeout=60)
            time.sleep(0.05)  # let late console messages arrive
            with contextlib.suppress(BrowserError):
                browser.call("Runtime.evaluate", expression="0")
            if info.get("loadEventEnd"):
                report.load_seconds[page] = info["loadEventEnd"] / 1000.0
            if page == front:
                report.front_page = page
            _page_problems(report, page, info, browser.events, request_log[n_log:], base)
            _reader_problems(report, page, info, site=site, base=base, is_front=page == front, forbidden=forbidden)
            is_chapter = page.startswith(chapter_prefix) or page == chapter
            if shots is not None and (page == front or is_chapter):
                name = "front_page" if page == front else Path(page).stem
                report.screenshots.append(browser.screenshot(shots / f"{name}_{DESKTOP_WIDTH}.png", full_page=True))
                shot_pages.append(page)
            # the same page on a phone: nothing may be wider than the screen
            browser.set_viewport(PHONE_WIDTH, SCREEN_HEIGHT)
            try:
                ov = browser.evaluate(_OVERFLOW_JS, timeout=30)
                if ov and ov["scrollWidth"] > ov["innerWidth"]:
                    report.problems.append(Problem(page, "overflow", (
                        f"at {PHONE_WIDTH} px the page is {ov['scrollWidth']} px wide; wider than the screen: "
                        + ("; ".join(ov["offenders"]) or "?"))))
                if shots is not None and (page == front or is_chapter):
                    name = "front_page" if page == front else Path(page).stem
                    report.screenshots.append(browser.screenshot(shots / f"{name}_{PHONE_WIDTH}.png", full_page=True))
            finally:
                browser.set_viewport(DESKTOP_WIDTH, SCREEN_HEIGHT)
            page_ids[page] = set(info.get("ids", []))
            for link in info.get("links", []):
                key = _page_key(link, base)
                if key is None:
                    continue
                frag = urllib.parse.urlsplit(link).fragment
                if key.endswith(".html"):
                    if frag:
                        anchors.append((page, key, urllib.parse.unquote(frag)))
                    if key not in seen:
                        seen.add(key)
                        queue.append(key)
                        referrer[key] = page
                else:
                    other_links.setdefault(key, page)
        if shots is not None and not any(p != front for p in shot_pages):
            fallback = chapter if chapter in report.pages else next((p for p in report.pages if p != front), None)
            if fallback:
                browser.navigate(urllib.parse.urljoin(base, urllib.parse.quote(fallback)))
                browser.evaluate(_WAIT_MATHJAX_JS % {"timeout_ms": int(mathjax_timeout * 1000)}, timeout=mathjax_timeout + 10)
                for width in (DESKTOP_WIDTH, PHONE_WIDTH):
                    browser.set_viewport(width, SCREEN_HEIGHT)
                    report.screenshots.append(browser.screenshot(shots / f"{Path(fallback).stem}_{width}.png", full_page=True))
                browser.set_viewport(DESKTOP_WIDTH, SCREEN_HEIGHT)
        if queue:
            report.problems.append(Problem(".", "too-many-pages", f"stopped after {max_pages} pages"))
        # non-HTML internal links (downloads, sources): must exist on the server
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for target, from_page in sorted(other_links.items()):
            try:
                with opener.open(urllib.parse.urljoin(base, urllib.parse.quote(target)), timeout=10) as resp:
                    resp.read(1)
            except urllib.error.HTTPError as exc:
                report.problems.append(Problem(from_page, "broken-link", f"{target} -> HTTP {exc.code}"))
            except OSError as exc:
                report.problems.append(Problem(from_page, "broken-link", f"{target} -> {exc}"))
        if check_anchors:
            for from_page, target, frag in anchors:
                if target in page_ids and frag not in page_ids[target]:
                    report.problems.append(Problem(from_page, "broken-anchor", f"{target}#{frag}"))
        # the front page once more, with a warm browser process: the first load includes its start-up
        seconds = report.load_seconds.get(report.front_page or "")
        if seconds is not None and seconds > max_front_page_seconds:
            with contextlib.suppress(BrowserError):
                browser.navigate(urllib.parse.urljoin(base, urllib.parse.quote(report.front_page)))
                again = browser.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd / 1000")
                if again:
                    report.load_seconds[report.front_page] = min(seconds, float(again))
        report.requests = len(request_log)
    seconds = report.load_seconds.get(report.front_page or "")
    limit = max_front_page_seconds * _load_factor()
    if seconds is not None and seconds > limit:
        report.problems.append(Problem(report.front_page, "slow-front-page",
                                       f"load event after {seconds:.2f} s > {limit:.1f} s"
                                       + (f" ({max_front_page_seconds} s × machine load {_load_factor():.1f})"
                                          if limit > max_front_page_seconds else "")))
    return report


def _load_factor() -> float:
    """How oversubscribed the machine is (1-minute load average per core, at least 1): a page load
    timed on a machine running other work takes longer, which says nothing about the page."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:  # pragma: no cover - no load average on this platform
        return 1.0


# ------------------------------------------------------------------------------------------------
# what a reader must never see (pure functions: tested without a browser)
# ------------------------------------------------------------------------------------------------

def plumbing_reason(code: str) -> str | None:
    """Why a visible code cell is plumbing rather than reading, or None.

    Papermill's injected parameters, a ``parameters`` cell (``results_dir = None``), a cell of only
    imports / warning filters / IPython magics, or bookkeeping (``write_summary``, ``glue_indicators``).
    """
    import ast

    text = code.strip()
    if not text:
        return None
    first = text.splitlines()[0].strip()
    if first.lower() == "# parameters":
        return "papermill's injected parameters"
    if re.search(r"\b(write_summary|glue_indicators)\s*\(", text):
        return "bookkeeping (write_summary / glue_indicators)"
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return None
    stmts = tree.body
    if stmts and isinstance(stmts[0], ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "results_dir" for t in stmts[0].targets):
        return "the parameters cell"

    def trivial(node) -> bool:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            name = ast.unparse(node.value.func)
            return name.startswith(("warnings.", "plt.style", "set_matplotlib", "np.set_printoptions", "pd.set_option"))
        return False

    if stmts and all(trivial(n) for n in stmts):
        return "imports and warning filters only"
    n_imports = sum(isinstance(n, (ast.Import, ast.ImportFrom)) for n in stmts)
    if n_imports >= 3 or re.search(r"\bwarnings\.(filterwarnings|simplefilter)\s*\(", body):
        return f"{n_imports} imports / warning filters (hide the cell with the tag remove-input)"
    return None


def vocabulary_hits(text: str) -> list[str]:
    """Snippets of ``text`` around internal vocabulary (:data:`INTERNAL_VOCABULARY`)."""
    hits = []
    for pat in INTERNAL_VOCABULARY:
        for m in re.finditer(pat, text, flags=re.IGNORECASE):
            hits.append(" ".join(text[max(0, m.start() - 40):m.end() + 40].split()))
    return hits


_DOUBLE_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+\(?\d+(?:\.\d+)*[.)]\s")


def double_numbered(headings: list[str]) -> list[str]:
    """Headings carrying two numbers (the book's and the author's): ``"3.3. 3. Global totals"``."""
    return [h for h in headings if _DOUBLE_NUMBER.match(h)]


def rendered_font_pt(min_font_pt: float, dpi: float, shown_px: float, natural_px: float) -> float:
    """Size [pt] of text drawn at ``min_font_pt`` in a PNG of ``dpi`` shown ``shown_px`` wide (CSS px,
    96 per inch) whose pixel width is ``natural_px``: ``pt × dpi × (shown / natural) / 96``."""
    return min_font_pt * dpi * (shown_px / natural_px) / 96.0


def _png_font_info(path: Path) -> tuple[float | None, float | None]:
    """(dpi, smallest font size in pt) recorded in a PNG (``landcarbon:min_font_pt``), else Nones."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return None, None
    with Image.open(path) as im:
        dpi = im.info.get("dpi", (None,))[0]
        font = im.info.get("landcarbon:min_font_pt")
    return (float(dpi) if dpi else None), (float(font) if font else None)


def _reader_problems(report: SiteReport, page: str, info: dict, *, site: Path, base: str, is_front: bool,
                     forbidden: tuple[str, ...]) -> None:
    def add(kind: str, detail: str) -> None:
        problem = Problem(page, kind, detail)
        if problem not in report.problems:
            report.problems.append(problem)

    captions = info.get("captions", [])
    bad = [c["text"] for c in captions if not c["ok"]]
    if bad:
        add("caption-without-figure", f"{len(captions)} captions, {info.get('nImages', 0)} rendered images; "
                                      f"no image before: " + " | ".join(t[:70] for t in bad[:8]))
    text = info.get("allText", "")
    if "Traceback (most recent call last)" in text or info.get("errorOutputs"):
        first = (info.get("errorOutputs") or ["Traceback (most recent call last)"])[0]
        add("traceback", f"an error output is shown: {first[:160]!r}")
    for hit in vocabulary_hits(text)[:5]:
        add("internal-vocabulary", f"...{hit}...")
    for code in info.get("codeCells", []):
        why = plumbing_reason(code)
        if why:
            add("plumbing", f"{why}: {' '.join(code.split())[:100]!r}")
    for h in double_numbered(info.get("headings", [])):
        add("double-numbering", repr(h))
    for needle in forbidden:
        if needle in text:
            i = text.index(needle)
            add("absolute-path", f"{' '.join(text[max(0, i - 30):i + len(needle) + 30].split())!r}")
    if is_front:
        fr = info.get("front") or {}
        km, table = fr.get("keyMessages"), fr.get("headlineTable")
        if km is None or not 3 <= km["items"] <= 5:
            add("front-page-order", f"the front page needs a key-messages box (.lc-key-messages) with 3 to 5 "
                                    f"statements; found {km['items'] if km else 'none'}")
        elif km["top"] >= fr.get("innerHeight", SCREEN_HEIGHT):
            add("front-page-order", f"the key messages start {km['top']:.0f} px down, below the first screen")
        if table is None:
            add("front-page-order", "no headline table (a table in the section 'Headline estimates')")
        demo = fr.get("firstDemoRow")
        if demo is not None and ((table and demo < table["bottom"]) or (km and demo < km["bottom"])):
            add("front-page-order", f"a demo row ({demo:.0f} px) comes before the end of the key messages or "
                                    f"of the headline table ({table['bottom'] if table else '?'} px)")
        for fig in info.get("headlineFigures", []):
            rel = _page_key(fig["src"], base)
            name = fig["src"].rsplit("/", 1)[-1]
            dpi, font = _png_font_info(site / rel) if rel and (site / rel).is_file() else (None, None)
            if dpi is None or font is None:
                add("unreadable-figure", f"{name} does not record its smallest font size (save it with "
                                         "landcarbon.publish.report.save_headline_figure)")
                continue
            pt = rendered_font_pt(font, dpi, fig["shownWidth"], fig["naturalWidth"] or 1)
            if pt < MIN_FIGURE_FONT_PT:
                add("unreadable-figure", f"{name}: smallest text {font:g} pt at {dpi:g} dpi shown "
                                         f"{fig['shownWidth']:.0f}/{fig['naturalWidth']} px -> {pt:.1f} pt "
                                         f"< {MIN_FIGURE_FONT_PT:g} pt at {DESKTOP_WIDTH} px")


def _meta_refresh_target(path: Path) -> str | None:
    """URL of a ``<meta http-equiv="refresh" content="0; url=...">`` in a small HTML file, else None."""
    import re

    try:
        if path.stat().st_size > 4096:
            return None
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(r"""<meta[^>]+http-equiv=["']?refresh["']?[^>]*content=["']\s*\d+\s*;\s*url=([^"'>]+)""",
                  head, re.IGNORECASE)
    return m.group(1).strip() if m else None


def _page_problems(report: SiteReport, page: str, info: dict, events: list[dict], requests: list, base: str):
    def add(kind: str, detail: str) -> None:
        problem = Problem(page, kind, detail)
        if problem not in report.problems:
            report.problems.append(problem)
    for img in info.get("images", []):
        if not img.get("w"):
            add("missing-image", f"{img.get('src')} (alt {img.get('alt')!r}) has naturalWidth 0")
    seen_urls = set()
    request_urls = {ev["params"]["requestId"]: ev["params"].get("request", {}).get("url", "")
                    for ev in events if ev["method"] == "Network.requestWillBeSent"}
    for ev in events:
        method, params = ev["method"], ev.get("params", {})
        url = params.get("request", params.get("response", params.get("entry", {}))).get("url", "") \
            or request_urls.get(params.get("requestId"), "")
        if url.endswith("/favicon.ico") and _is_local(url):
            continue  # requested by the browser itself when a page declares no icon
        if method in ("Network.loadingFailed", "Log.entryAdded") and url and not _is_local(url):
            continue  # reported once as external-request
        if method == "Log.entryAdded" and params.get("entry", {}).get("source") == "network" and _is_local(url):
            continue  # the same failure is reported from the Network events as broken-link
        if method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            add("js-error", f"uncaught exception: {str(desc)[:300]} ({d.get('url', '')}:{d.get('lineNumber')})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            add("js-error", f"console.{params['type']}: {args[:300]}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            e = params["entry"]
            add("js-error", f"browser log ({e.get('source')}): {e.get('text', '')[:300]} {e.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            if not _is_local(url) and url not in seen_urls:
                seen_urls.add(url)
                add("external-request", f"request to a non-local host: {url[:200]}")
        elif method == "Network.responseReceived":
            resp = params.get("response", {})
            if resp.get("status", 200) >= 400 and _is_local(resp.get("url", "")):
                add("broken-link", f"{resp.get('url')} -> HTTP {resp.get('status')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            add("broken-link", f"resource failed to load: {params.get('errorText')} ({url or params.get('requestId')})")
    for path, status in requests:
        if path == "/favicon.ico":  # requested by the browser itself when a page declares no icon
            continue
        if status >= 400 and not any(p.detail.endswith(f"HTTP {status}") and path in p.detail for p in report.problems):
            add("broken-link", f"local server answered {status} for {path}")
    for res in info.get("resources", []):
        if not _is_local(res) and res not in seen_urls:
            add("external-request", f"page references a non-local resource: {res[:200]}")
    status = report.math_status.get(page)
    if info.get("mathCount"):
        if status not in ("mathjax2", "mathjax3"):
            add("unrendered-math", f"{info['mathCount']} math elements but MathJax state is {status!r}")
        elif info.get("unrendered"):
            add("unrendered-math", f"{len(info['unrendered'])} of {info['mathCount']} math elements not typeset, "
                                   f"e.g. {info['unrendered'][0]!r}")
    for err in info.get("mathErrors", []):
        add("unrendered-math", f"MathJax error: {err}")
    for ctx in info.get("nan", []):
        add("nan", f"text reads 'nan': ...{ctx}...")


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Check a built static site in headless Chromium.")
    ap.add_argument("site", type=Path, nargs="?", default=Path("book/_build/html"))
    ap.add_argument("--screenshots", type=Path, default=None)
    ap.add_argument("--forbid", action="append", default=[], help="text that must not appear (e.g. a local path)")
    args = ap.parse_args(argv)
    report = check_site(args.site, screenshot_dir=args.screenshots, forbidden_text=tuple(args.forbid))
    print(report.summary())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
