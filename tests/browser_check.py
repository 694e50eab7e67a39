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
``slow-front-page``    the front page's load event later than ``max_front_page_seconds`` (2 s)
``site-too-large``     the whole site folder above ``max_site_bytes`` (50 MB, measured with os.walk)

Screenshots of the front page and one chapter are written to ``screenshot_dir``.
"""
from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
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


@contextlib.contextmanager
def serve(site: Path):
    """Serve ``site`` on 127.0.0.1 (free port); yields ``(base_url, request_log)``."""
    handler = functools.partial(_Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
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

    def __init__(self, executable: str, *, width: int = 1280, height: int = 900, timeout: float = 30.0):
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
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

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

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params = {"format": "png"}
        if full_page:
            h = self.evaluate("Math.min(document.documentElement.scrollHeight, 8000)")
            w = self.evaluate("document.documentElement.clientWidth")
            params.update(clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1}, captureBeyondViewport=True)
        data = self.call("Page.captureScreenshot", **params)["data"]
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
  return {title: document.title, images, links, resources, ids, mathCount: mathEls.length, unrendered, mathErrors,
          nan, loadEventEnd: nav ? nav.loadEventEnd : null, domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
          hasMain: document.querySelector('main, [role=main], article') !== null};
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
               check_anchors: bool = True) -> SiteReport:
    """Visit every internal page of the static site in ``site`` and report problems.

    Parameters
    ----------
    site : path
        Folder with ``index.html`` (e.g. ``book/_build/html``).
    screenshot_dir : path, optional
        Where to save ``front_page.png`` and ``chapter.png``.
    chapter : str, optional
        Site-relative page for the chapter screenshot (default: the first visited page after the
        front page whose path contains ``analyses/``, else the second page visited).
    chromium : str, optional
        Browser executable (default :func:`find_chromium`).

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
    with serve(site) as (base, request_log), Chromium(exe) as browser:
        queue = deque(["index.html"])
        seen = {"index.html"}
        page_ids: dict[str, set[str]] = {}
        anchors: list[tuple[str, str, str]] = []  # (from page, target page, fragment)
        other_links: dict[str, str] = {}  # non-html target -> first page linking to it
        referrer: dict[str, str] = {}  # page -> first page linking to it
        front = "index.html"
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
            _page_problems(report, page, info, browser.events, request_log[n_log:], base)
            if info.get("loadEventEnd"):
                report.load_seconds[page] = info["loadEventEnd"] / 1000.0
            if page == front:
                report.front_page = page
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
            if screenshot_dir is not None:
                want_chapter = chapter or None
                if page == front:
                    report.screenshots.append(browser.screenshot(Path(screenshot_dir) / "front_page.png", full_page=True))
                elif not any(s.name == "chapter.png" for s in report.screenshots) and (
                        (want_chapter and page == want_chapter)
                        or (want_chapter is None and "analyses/" in page)):
                    report.screenshots.append(browser.screenshot(Path(screenshot_dir) / "chapter.png", full_page=True))
        if screenshot_dir is not None and not any(s.name == "chapter.png" for s in report.screenshots):
            fallback = chapter if chapter in report.pages else next((p for p in report.pages if p != front), None)
            if fallback:
                browser.navigate(urllib.parse.urljoin(base, urllib.parse.quote(fallback)))
                browser.evaluate(_WAIT_MATHJAX_JS % {"timeout_ms": int(mathjax_timeout * 1000)}, timeout=mathjax_timeout + 10)
                report.screenshots.append(browser.screenshot(Path(screenshot_dir) / "chapter.png", full_page=True))
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
        report.requests = len(request_log)
    seconds = report.load_seconds.get(report.front_page or "")
    if seconds is not None and seconds > max_front_page_seconds:
        report.problems.append(Problem(report.front_page, "slow-front-page",
                                       f"load event after {seconds:.2f} s > {max_front_page_seconds} s"))
    return report


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
    args = ap.parse_args(argv)
    report = check_site(args.site, screenshot_dir=args.screenshots)
    print(report.summary())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
