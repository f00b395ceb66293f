"""Helpers of tests/test_site.py: build the book, serve it on loopback, and crawl it with headless Chromium.

Kept apart from the tests so that the crawl (one browser session over every page) runs once and the tests
only read what it recorded.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = ROOT / "_build" / "html"
ARTIFACTS = Path(os.environ.get("COURSE_SITE_ARTIFACTS") or ROOT / "test-artifacts")

# The exact build command of the README, with warnings turned into errors and nitpicky reference checks.
BUILD_ARGS = ["build", ".", "-W", "-n", "--keep-going"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
INSTALL_HINT = (
    "the website's browser tests need Chromium and the Python package playwright: "
    "`apt-get install -y chromium` (Debian/Ubuntu) and `pip install -r requirements.txt`; "
    "never `playwright install` (it downloads a browser build). "
    "Set COURSE_CHROMIUM=/path/to/chromium to use another binary."
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


# ---------------------------------------------------------------------------------------------- build


def jupyter_book_command() -> list[str]:
    """The jupyter-book executable of the running interpreter's environment (``.venv/bin/jupyter-book``)."""
    exe = Path(sys.executable).parent / "jupyter-book"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    return [sys.executable, "-m", "jupyter_book.cli.main"]


@dataclass
class BuildResult:
    returncode: int
    output: str
    seconds: float
    html_dir: Path

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.output.splitlines() if "WARNING" in line or "ERROR" in line]


def build_site(root: Path = ROOT, timeout: float = 1200, output: Path | None = None) -> BuildResult:
    """Run ``jupyter-book build . -W -n --keep-going`` in ``root``; return its status and whole output.

    The site goes to ``root/_build/html``, or with ``output`` (default: the environment variable
    ``COURSE_SITE_OUTPUT``) to ``output/_build/html`` via ``--path-output``, so that several people working
    in one checkout can each build and test the site without touching the others' ``_build``. With
    ``COURSE_SITE_REUSE=1`` (ignored under CI) an existing build is reused instead of rebuilt.
    """
    if output is None and os.environ.get("COURSE_SITE_OUTPUT"):
        output = Path(os.environ["COURSE_SITE_OUTPUT"])
    out = Path(output).resolve() if output is not None else root
    extra = ["--path-output", str(out)] if output is not None else []
    if os.environ.get("COURSE_SITE_REUSE") == "1" and (out / "_build" / "html" / "index.html").exists():
        # Local iteration on the browser tests only: reuse the last build (never under CI).
        if os.environ.get("CI", "").lower() != "true":
            return BuildResult(0, "(reused: COURSE_SITE_REUSE=1)", 0.0, out / "_build" / "html")
    env = dict(os.environ, PYTHONHASHSEED="0", COURSE_LIB_PROGRESS="0")
    # A stale build could hide a warning that only a fresh read of every page shows.
    shutil.rmtree(out / "_build" / "html", ignore_errors=True)
    shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [*jupyter_book_command(), *BUILD_ARGS, *extra],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return BuildResult(proc.returncode, proc.stdout, time.perf_counter() - start, out / "_build" / "html")


def dir_size_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------------- serve


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@contextmanager
def serve_directory(folder: Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 and a free port; yield the base URL (ending in '/')."""
    handler = partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# ---------------------------------------------------------------------------------------------- html


class _IdCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


def ids_in_html(path: Path) -> set[str]:
    parser = _IdCollector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.ids


class ResourceCollector(HTMLParser):
    """Every URL an HTML page would *load* by itself (scripts, styles, images, frames, media, fonts)."""

    LOADING = {
        "script": ("src",),
        "img": ("src", "srcset"),
        "iframe": ("src",),
        "frame": ("src",),
        "embed": ("src",),
        "object": ("data",),
        "source": ("src", "srcset"),
        "video": ("src", "poster"),
        "audio": ("src",),
        "track": ("src",),
        "input": ("src",),
    }
    LOADING_REL = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "shortcut", "manifest",
                   "apple-touch-icon", "dns-prefetch", "preconnect"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in self.LOADING.get(tag, ()):
            if a.get(name):
                self.urls.extend(u.strip().split(" ")[0] for u in a[name].split(","))
        if tag == "link" and a.get("href"):
            rels = set((a.get("rel") or "").lower().split())
            if rels & self.LOADING_REL:
                self.urls.append(a["href"])
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url=(\S+)", a.get("content") or "", flags=re.I)
            if match:
                self.urls.append(match.group(1))


def is_external(url: str) -> bool:
    """True for a URL that leaves the site: absolute http(s), protocol-relative, or another scheme's host."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    if parts.scheme in ("", "data", "blob", "about", "javascript"):
        return False
    if parts.scheme in ("http", "https", "ws", "wss", "ftp"):
        return parts.hostname not in LOOPBACK_HOSTS
    return True


def external_resources(path: Path) -> list[str]:
    collector = ResourceCollector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return [u for u in collector.urls if is_external(u)]


CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])((?:https?:)?//[^'")\s]+)""", re.I)


def external_css_urls(path: Path) -> list[str]:
    return CSS_URL.findall(path.read_text(encoding="utf-8", errors="replace"))


def url_to_file(html_dir: Path, base_url: str, url: str) -> Path | None:
    """The file under ``html_dir`` that the server answers ``url`` with (None for another site's URL)."""
    url, _ = urldefrag(url)
    if not url.startswith(base_url):
        return None
    rel = unquote(urlsplit(url).path)[len(urlsplit(base_url).path):]
    target = html_dir / rel
    if rel == "" or rel.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


# ---------------------------------------------------------------------------------------------- browser


def find_chromium() -> str | None:
    """Path of Chromium: $COURSE_CHROMIUM if set (None if that does not exist), else the usual places."""
    chosen = os.environ.get("COURSE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class PageReport:
    """What the crawl saw on one page."""

    path: str  # relative to the site root, e.g. "book/03_lstm.html"
    url: str = ""
    final_url: str = ""
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    math_elements: int = 0
    math_untypeset: int = 0
    mjx_containers: int = 0
    mjx_errors: list[str] = field(default_factory=list)
    raw_math_snippets: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    prev_href: str | None = None
    next_href: str | None = None
    code_blocks: int = 0
    copy_buttons: int = 0
    ipynb_links: list[str] = field(default_factory=list)
    launch_links: list[str] = field(default_factory=list)
    dropdowns: list[dict] = field(default_factory=list)
    load_ms: float | None = None
    typeset_ms: float | None = None


# Text a reader sees, without code, MathJax output, scripts and styles: raw TeX left there means MathJax
# did not typeset it.
_VISIBLE_TEXT_JS = """
() => {
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'MJX-CONTAINER', 'TEXTAREA', 'KBD']);
  const root = document.querySelector('main') || document.body;
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el && el !== root.parentElement; el = el.parentElement) {
        if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  while (walker.nextNode()) out.push(walker.currentNode.nodeValue);
  return out.join(' ');
}
"""

_WAIT_IMAGES_JS = """
async () => {
  const imgs = [...document.images];
  for (const img of imgs) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(imgs.map(img => (img.complete && img.naturalWidth) ? null : new Promise(resolve => {
    img.addEventListener('load', resolve, {once: true});
    img.addEventListener('error', resolve, {once: true});
    setTimeout(resolve, 5000);
  })));
  return imgs.map(img => ({src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
                          naturalWidth: img.naturalWidth, inDropdown: !!img.closest('details')}));
}
"""

_WAIT_MATHJAX_JS = """
async () => {
  const t0 = performance.now();
  if (!document.querySelector('script[src*="mathjax"]')) return null;
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return -1;
  await MathJax.startup.promise;
  return performance.now();
}
"""

_PAGE_FACTS_JS = """
() => {
  const abs = a => a ? new URL(a.getAttribute('href'), document.baseURI).href : null;
  const math = [...document.querySelectorAll('main .math')];
  return {
    mathElements: math.length,
    mathUntypeset: math.filter(el => !el.querySelector('mjx-container')).length,
    mjxContainers: document.querySelectorAll('mjx-container').length,
    mjxErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error')
                                                                    || e.textContent).slice(0, 5),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    prev: abs(document.querySelector('.prev-next-area a.left-prev')),
    next: abs(document.querySelector('.prev-next-area a.right-next')),
    codeBlocks: document.querySelectorAll('main div.highlight pre').length,
    copyButtons: document.querySelectorAll('main button.copybtn').length,
    ipynbLinks: [...document.querySelectorAll('a[href$=".ipynb"]')].map(a => a.href),
    launchLinks: [...document.querySelectorAll(
                    'a[href*="mybinder.org"], a[href*="colab.research.google.com"]')].map(a => a.href),
    dropdowns: [...document.querySelectorAll('main details')].map(d => ({
      title: d.querySelector('summary') ? d.querySelector('summary').textContent.trim() : '',
      open: d.open,
      // checkVisibility() is false inside a closed <details> (its content is content-visibility: hidden)
      bodyVisible: [...d.children].filter(c => c.tagName !== 'SUMMARY')
                     .some(c => c.checkVisibility ? c.checkVisibility({contentVisibilityAuto: true})
                                                  : c.getBoundingClientRect().height > 0),
    })),
  };
}
"""

_TIMING_JS = """
() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd : null; }
"""


def launch_chromium(playwright, executable: str):
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def new_guarded_context(browser, blocked: list[str], color_scheme: str = "light"):
    """A browser context that lets only loopback (and data:/blob:) requests through; others are recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=color_scheme,
                                  service_workers="block")

    def guard(route):
        url = route.request.url
        if is_external(url):
            blocked.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    return context


def crawl(browser, base_url: str, pages: list[str]) -> dict[str, PageReport]:
    """Visit each page (paths relative to ``base_url``) in one browser context; record a PageReport each."""
    reports: dict[str, PageReport] = {}
    blocked: list[str] = []
    context = new_guarded_context(browser, blocked)
    page = context.new_page()
    current: dict[str, PageReport] = {}

    def on_console(msg):
        if msg.type == "error" and "report" in current:
            current["report"].console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def on_pageerror(exc):
        if "report" in current:
            current["report"].console_errors.append(f"uncaught: {exc}")

    def on_requestfailed(request):
        if "report" in current and not is_external(request.url):
            current["report"].failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response):
        if "report" in current and response.status >= 400:
            current["report"].failed_requests.append(f"{response.url}: HTTP {response.status}")

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.on("requestfailed", on_requestfailed)
    page.on("response", on_response)

    for rel in pages:
        report = PageReport(path=rel, url=base_url + rel)
        current["report"] = report
        del blocked[:]
        with urllib.request.urlopen(report.url, timeout=30) as raw:  # noqa: S310 - the loopback server
            is_redirect = re.search(rb'http-equiv="refresh"', raw.read(), flags=re.I) is not None
        response = page.goto(report.url, wait_until="commit" if is_redirect else "load", timeout=60_000)
        report.status = response.status if response else None
        if is_redirect:  # index.html: a meta refresh to the home page; wait for the browser to follow it
            page.wait_for_url(lambda u, start=report.url: u != start, timeout=30_000)
        page.wait_for_load_state("load")
        report.final_url = page.url
        report.load_ms = page.evaluate(_TIMING_JS)
        typeset_at = page.evaluate(_WAIT_MATHJAX_JS)
        report.typeset_ms = typeset_at
        report.images = page.evaluate(_WAIT_IMAGES_JS)
        facts = page.evaluate(_PAGE_FACTS_JS)
        report.math_elements = facts["mathElements"]
        report.math_untypeset = facts["mathUntypeset"]
        report.mjx_containers = facts["mjxContainers"]
        report.mjx_errors = facts["mjxErrors"]
        text = page.evaluate(_VISIBLE_TEXT_JS)
        report.raw_math_snippets = raw_math_in(text)
        report.links = facts["links"]
        report.prev_href = facts["prev"]
        report.next_href = facts["next"]
        report.code_blocks = facts["codeBlocks"]
        report.copy_buttons = facts["copyButtons"]
        report.ipynb_links = facts["ipynbLinks"]
        report.launch_links = facts["launchLinks"]
        report.dropdowns = facts["dropdowns"]
        page.wait_for_timeout(100)  # late console messages (e.g. a lazily loaded MathJax component)
        report.blocked_requests = list(blocked)
        reports[rel] = report
    current.clear()
    context.close()
    return reports


_RAW_MATH = [
    re.compile(r"\$\$"),
    re.compile(r"\\begin\{"),
    re.compile(r"\\\(|\\\)"),
    re.compile(r"\\\[|\\\]"),
    re.compile(r"\\(?:frac|sigma|tanh|odot|tilde|partial|mathbf|left|right)\b"),
]


def raw_math_in(text: str) -> list[str]:
    found = []
    for pattern in _RAW_MATH:
        for m in pattern.finditer(text):
            found.append(text[max(0, m.start() - 40): m.end() + 40].replace("\n", " "))
    return found[:5]


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
