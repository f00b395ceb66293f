"""The website: built with warnings as errors, complete, self-contained, and checked in a real browser.

A module fixture builds the book once with ``jupyter-book build . -W -n --keep-going`` (the build check of
the course), serves ``_build/html`` on a loopback port, and one headless-Chromium session visits every page
while a route guard aborts (and records) any request that would leave the machine. The tests then read
what the crawl recorded. Screenshots and the site's size / load-time figures go to ``test-artifacts/``.

Without Chromium the browser tests are skipped with the install command; under CI (``CI=true``) a missing
browser is a failure.
"""

from __future__ import annotations

import ast
import html
import io
import os
import re
import urllib.request
from pathlib import Path

import nbformat
import pytest
import site_helpers as sh
import yaml

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = sh.ROOT
BOOK = ROOT / "book"

# Words every glossary entry in the spec must define, with a Chinese and a Russian term beside it.
GLOSSARY_TERMS = [
    "gate", "forget gate", "input gate", "output gate", "cell state", "candidate memory", "hidden state",
    "reset gate", "update gate", "BPTT", "truncated BPTT", "vanishing gradient", "exploding gradient",
    "gradient clipping", "peephole", "CIFG", "teacher forcing",
]
# Code names the notation page must list (from the style guide, the GRU, peepholes and gradients).
NOTATION_NAMES = [
    "X_t", "H_t", "C_t", "I_t", "F_t", "O_t", "C_tilde", "R_t", "Z_t", "H_tilde", "H_0", "C_0",
    "W_xh", "W_hh", "b_h", "W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o",
    "W_xc", "W_hc", "b_c", "W_xr", "W_hr", "b_r", "W_xz", "W_hz", "b_z", "b_hh_rec", "p_i", "p_f", "p_o",
    "dH_t", "dC_t", "dH", "dX", "dH_0", "dC_0", "grads", "max_norm", "lr", "sigmoid", "tanh",
]


def toc_docs() -> list[str]:
    """Documents in _toc.yml, in reading order (the root first), as paths without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return docs


TOC_DOCS = toc_docs()
TOC_PAGES = [f"{doc}.html" for doc in TOC_DOCS]
SPECIAL_PAGES = ["index.html", "search.html", "genindex.html"]
ALL_PAGES = TOC_PAGES + SPECIAL_PAGES
NOTEBOOK_DOCS = [doc for doc in TOC_DOCS if (ROOT / f"{doc}.ipynb").exists()]


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def site_build() -> sh.BuildResult:
    return sh.build_site(ROOT)


@pytest.fixture(scope="module")
def html_dir(site_build) -> Path:
    if not (site_build.html_dir / "index.html").exists():
        pytest.fail("the build produced no _build/html/index.html:\n" + site_build.output[-4000:])
    return site_build.html_dir


@pytest.fixture(scope="module")
def site_url(html_dir):
    with sh.serve_directory(html_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    message = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        message = "playwright is not installed: " + sh.INSTALL_HINT
    executable = sh.find_chromium()
    if message is None and executable is None:
        message = "Chromium not found: " + sh.INSTALL_HINT
    if message is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        b = sh.launch_chromium(p, executable)
        yield b
        b.close()


@pytest.fixture(scope="module")
def crawl(browser, site_url) -> dict[str, sh.PageReport]:
    return sh.crawl(browser, site_url, ALL_PAGES)


# ------------------------------------------------------------------------------------------ the build


def test_build_succeeds_without_warnings(site_build):
    """`jupyter-book build . -W -n --keep-going` exits 0 and prints no WARNING (warnings as errors)."""
    shown = "\n".join(site_build.warnings[:40]) or site_build.output[-3000:]
    assert site_build.returncode == 0, f"build failed (exit {site_build.returncode}):\n{shown}"
    assert not site_build.warnings, "the build printed warnings:\n" + shown


def test_every_page_in_book_is_in_the_toc():
    """No orphan page: every Markdown page and notebook in book/ is in _toc.yml (else it is not built)."""
    on_disk = {p.relative_to(ROOT).with_suffix("").as_posix()
               for p in list(BOOK.glob("*.md")) + list(BOOK.glob("*.ipynb"))}
    missing = sorted(on_disk - set(TOC_DOCS))
    assert not missing, f"pages in book/ that _toc.yml leaves out (add them to _toc.yml): {missing}"


def test_every_toc_page_exists_and_was_built(html_dir):
    missing_sources = [d for d in TOC_DOCS if not any((ROOT / f"{d}{s}").exists() for s in (".md", ".ipynb"))]
    assert not missing_sources, f"_toc.yml names pages that do not exist: {missing_sources}"
    missing_html = [p for p in TOC_PAGES if not (html_dir / p).exists()]
    assert not missing_html, f"pages not built: {missing_html}"


def test_no_page_or_stylesheet_loads_anything_from_another_host(html_dir):
    """Static check of the built files: no script, stylesheet, image, font or frame from another host."""
    offenders = {}
    for path in sorted(html_dir.rglob("*.html")):
        urls = sh.external_resources(path)
        if urls:
            offenders[path.relative_to(html_dir).as_posix()] = urls[:5]
    for path in sorted(html_dir.rglob("*.css")):
        urls = sh.external_css_urls(path)
        if urls:
            offenders[path.relative_to(html_dir).as_posix()] = urls[:5]
    assert not offenders, f"external resources in the built site: {offenders}"


def test_mathjax_is_served_from_the_site(html_dir):
    intro = (html_dir / "book" / "intro.html").read_text(encoding="utf-8")
    assert 'src="../_static/mathjax/tex-chtml.js"' in intro
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    fonts = list((html_dir / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10


def test_bibliography_lists_every_entry(html_dir):
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", bib, flags=re.M)
    titles = re.findall(r"^\s*title\s*=\s*\{(.+)\},?\s*$", bib, flags=re.M)
    assert len(keys) == len(titles) > 0
    page = (html_dir / "book" / "bibliography.html").read_text(encoding="utf-8")
    assert page.count('role="doc-biblioentry"') == len(keys), "not every references.bib entry is listed"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page)).lower()

    def plain(title: str) -> str:  # the bibliography style writes titles in sentence case
        return re.sub(r"\s+", " ", re.sub(r"[{}]", "", title)).replace("--", "–").lower()

    missing = [t for t in titles if plain(t) not in text]
    assert not missing, f"titles missing from the bibliography page: {missing}"


def test_glossary_defines_terms_in_english_chinese_and_russian(html_dir):
    page = (html_dir / "book" / "glossary.html").read_text(encoding="utf-8")
    defined: dict[str, str] = {}  # term (and each alias listed with it) -> its definition's HTML
    pending: list[str] = []
    for m in re.finditer(r'<dt id="term-[^"]+"[^>]*>(.*?)</dt>|<dd>(.*?)</dd>', page, flags=re.S):
        if m.group(1) is not None:
            term = re.sub(r'<a class="headerlink".*?</a>|<[^>]+>', "", m.group(1), flags=re.S)
            pending.append(term.strip().lower())
        else:
            defined.update(dict.fromkeys(pending, m.group(2)))
            pending = []
    assert len(defined) >= len(GLOSSARY_TERMS)
    missing = [term for term in GLOSSARY_TERMS if term.lower() not in defined]
    assert not missing, f"terms missing from the glossary: {missing}"
    for term, body in defined.items():
        assert re.search(r"[\u4e00-\u9fff]", body), f"glossary entry {term!r} has no Chinese term"
        assert re.search(r"[\u0400-\u04ff]", body), f"glossary entry {term!r} has no Russian term"


def test_notation_page_lists_every_code_name():
    text = (BOOK / "notation.md").read_text(encoding="utf-8")
    missing = [name for name in NOTATION_NAMES if f"`{name}`" not in text and f'`{name}[' not in text]
    assert not missing, f"code names missing from the notation table: {missing}"


def test_notebook_pages_offer_download_and_launch_buttons(html_dir):
    if not NOTEBOOK_DOCS:
        pytest.skip("no chapter notebook in book/ yet")
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    slug = repo.rstrip("/").split("github.com/")[1]
    for doc in NOTEBOOK_DOCS:
        page = (html_dir / f"{doc}.html").read_text(encoding="utf-8")
        binder = f"https://mybinder.org/v2/gh/{slug}/main?urlpath=lab/tree/{doc}.ipynb"
        colab = f"https://colab.research.google.com/github/{slug}/blob/main/{doc}.ipynb"
        assert f'_sources/{doc}.ipynb"' in page, f"{doc}: no .ipynb download link"
        assert binder in page, f"{doc}: no Binder launch link {binder}"
        assert colab in page, f"{doc}: no Colab launch link {colab}"


# ------------------------------------------------------------------------------------------ the browser


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_loads_without_errors(crawl, page):
    r = crawl[page]
    assert r.status == 200, f"{page}: HTTP {r.status}"
    assert not r.console_errors, f"{page}: console errors: {r.console_errors}"
    assert not r.failed_requests, f"{page}: failed requests: {r.failed_requests}"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_no_request_leaves_loopback(crawl, page):
    r = crawl[page]
    assert not r.blocked_requests, f"{page} tried to reach other hosts: {r.blocked_requests}"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_math_is_typeset(crawl, page):
    r = crawl[page]
    assert r.math_untypeset == 0, f"{page}: {r.math_untypeset} of {r.math_elements} math elements not typeset"
    if r.math_elements:
        assert r.mjx_containers >= r.math_elements
    assert not r.mjx_errors, f"{page}: MathJax errors {r.mjx_errors}"
    assert not r.raw_math_snippets, f"{page}: raw TeX visible: {r.raw_math_snippets}"


def test_pages_with_equations_are_found(crawl):
    """Guard against a vacuous math test: the pages that certainly hold equations do show typeset math."""
    for page in ["book/intro.html", "book/notation.html", "book/glossary.html", "book/how_to_use.html"]:
        assert crawl[page].mjx_containers > 0, page


@pytest.mark.parametrize("page", ALL_PAGES)
def test_images_load_and_have_alt_text(crawl, page):
    for img in crawl[page].images:
        assert img["naturalWidth"] > 0, f"{page}: image did not load: {img['src']}"
        assert (img["alt"] or "").strip(), f"{page}: image without alt text: {img['src']}"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_internal_links_and_anchors_resolve(crawl, html_dir, site_url, page):
    problems = []
    ids_cache: dict[Path, set[str]] = {}
    for link in crawl[page].links:
        if not link.startswith(site_url):
            assert sh.is_external(link) or link.startswith(("mailto:", "javascript:")), link
            continue
        target = sh.url_to_file(html_dir, site_url, link)
        if target is None or not target.exists():
            problems.append(f"missing target: {link}")
            continue
        fragment = link.partition("#")[2]
        if fragment and target.suffix == ".html":
            ids = ids_cache.setdefault(target, sh.ids_in_html(target))
            if urllib.request.unquote(fragment) not in ids:
                problems.append(f"missing anchor: {link}")
    assert not problems, f"{page}: " + "; ".join(sorted(set(problems))[:10])


def test_crawl_covered_every_built_page(crawl, html_dir):
    built = {p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
             if not p.relative_to(html_dir).as_posix().startswith(("_static/", "_sources/"))}
    assert built <= set(crawl), f"built pages the crawl did not visit: {sorted(built - set(crawl))}"


def test_index_redirects_to_the_home_page(crawl):
    assert crawl["index.html"].final_url.endswith("book/intro.html")


def test_previous_next_navigation_follows_the_toc(crawl, browser, site_url):
    for i, page in enumerate(TOC_PAGES):
        r = crawl[page]
        expected_prev = site_url + TOC_PAGES[i - 1] if i > 0 else None
        expected_next = site_url + TOC_PAGES[i + 1] if i + 1 < len(TOC_PAGES) else None
        assert r.prev_href == expected_prev, f"{page}: previous is {r.prev_href}, expected {expected_prev}"
        assert r.next_href == expected_next, f"{page}: next is {r.next_href}, expected {expected_next}"
    # And the buttons work: click "next" from the home page to the last page, then "previous" back.
    blocked: list[str] = []
    context = sh.new_guarded_context(browser, blocked)
    tab = context.new_page()
    tab.goto(site_url + TOC_PAGES[0])
    visited = [tab.url]
    for _ in range(len(TOC_PAGES) - 1):
        tab.click(".prev-next-area a.right-next")
        tab.wait_for_load_state("load")
        visited.append(tab.url)
    assert visited == [site_url + p for p in TOC_PAGES]
    assert tab.locator(".prev-next-area a.right-next").count() == 0
    tab.click(".prev-next-area a.left-prev")
    tab.wait_for_load_state("load")
    assert tab.url == site_url + TOC_PAGES[-2]
    context.close()
    assert not blocked


def test_search_finds_forget_gate(browser, site_url):
    blocked: list[str] = []
    context = sh.new_guarded_context(browser, blocked)
    tab = context.new_page()
    tab.goto(site_url + "search.html?q=forget+gate")
    tab.wait_for_selector("#search-results ul.search li", timeout=30_000)
    tab.wait_for_function(
        "() => !document.querySelector('#search-results h2') || "
        "!/Searching/.test(document.querySelector('#search-results h2').textContent)", timeout=30_000)
    results = tab.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    context.close()
    assert any(r.split("#")[0].endswith("book/glossary.html") for r in results), results
    assert not blocked


def test_ipynb_downloads_are_valid_notebooks(crawl, site_url):
    if not NOTEBOOK_DOCS:
        pytest.skip("no chapter notebook in book/ yet")
    for doc in NOTEBOOK_DOCS:
        links = [u for u in crawl[f"{doc}.html"].ipynb_links if u.startswith(site_url)]
        assert links, f"{doc}: no .ipynb download link on the page"
        for url in set(links):
            with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback server
                assert resp.status == 200
                nb = nbformat.reads(resp.read().decode("utf-8"), as_version=4)
            nbformat.validate(nb)
            assert len(nb.cells) > 0


def test_notebook_pages_have_launch_links_and_copy_buttons(crawl):
    if not NOTEBOOK_DOCS:
        pytest.skip("no chapter notebook in book/ yet")
    for doc in NOTEBOOK_DOCS:
        r = crawl[f"{doc}.html"]
        assert any("mybinder.org" in u for u in r.launch_links), f"{doc}: no Binder button"
        assert any("colab.research.google.com" in u for u in r.launch_links), f"{doc}: no Colab button"
        if r.code_blocks:
            assert r.copy_buttons >= r.code_blocks, f"{doc}: copy buttons {r.copy_buttons}/{r.code_blocks}"


def test_solutions_are_collapsed(crawl):
    solutions = [
        (page, d) for page, r in crawl.items() for d in r.dropdowns if "solution" in d["title"].lower()
    ]
    if not solutions:
        pytest.skip("no solution dropdown on the site yet")
    for page, d in solutions:
        assert not d["open"], f"{page}: solution '{d['title']}' is open"
        assert not d["bodyVisible"], f"{page}: solution '{d['title']}' shows its body"


def _chapter_page() -> str:
    for doc in ["book/03_lstm", "book/02_bptt", "book/01_rnn_limits", "book/00_setup_check"]:
        if doc in NOTEBOOK_DOCS:
            return f"{doc}.html"
    return "book/notation.html"


def test_figures_are_legible_in_dark_theme(browser, site_url):
    """In the dark theme, notebook output images sit on a white background (black text stays readable)."""
    sh.ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    context = sh.new_guarded_context(browser, blocked, color_scheme="dark")
    tab = context.new_page()
    tab.goto(site_url + _chapter_page())
    tab.wait_for_load_state("load")
    assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
    backgrounds = tab.eval_on_selector_all(
        "main .cell_output img", "els => els.map(e => getComputedStyle(e).backgroundColor)")
    if backgrounds:  # show the first figure in the screenshot
        tab.evaluate("document.querySelector('main .cell_output img').scrollIntoView({block: 'center'})")
        tab.wait_for_timeout(200)
    tab.screenshot(path=str(sh.ARTIFACTS / "chapter-dark.png"), full_page=False)
    context.close()
    if not backgrounds:
        pytest.skip(f"{_chapter_page()} has no output image yet")
    assert set(backgrounds) == {"rgb(255, 255, 255)"}, backgrounds
    assert not blocked


def test_screenshots_and_site_figures(browser, site_url, html_dir, site_build):
    """Screenshots of the home page and a chapter; the site's size and the home page's load time.

    All go to test-artifacts/ (site_figures.json holds the figures).
    """
    sh.ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    context = sh.new_guarded_context(browser, blocked)
    tab = context.new_page()
    loads = []
    for _ in range(3):  # fresh page each time; the median of three loads
        tab.goto("about:blank")
        tab.goto(site_url + "book/intro.html", wait_until="load")
        nav = tab.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        typeset = tab.evaluate(sh._WAIT_MATHJAX_JS)
        loads.append((nav, typeset))
    tab.screenshot(path=str(sh.ARTIFACTS / "home.png"), full_page=False)
    tab.goto(site_url + _chapter_page(), wait_until="load")
    tab.evaluate(sh._WAIT_MATHJAX_JS)
    tab.screenshot(path=str(sh.ARTIFACTS / "chapter.png"), full_page=False)
    context.close()
    loads.sort()
    nav_ms, typeset_ms = loads[len(loads) // 2]
    figures = {
        "site_bytes": sh.dir_size_bytes(html_dir),
        "site_files": sum(1 for p in html_dir.rglob("*") if p.is_file()),
        "mathjax_bytes": sh.dir_size_bytes(html_dir / "_static" / "mathjax"),
        "home_load_event_ms": round(nav_ms, 1),
        "home_math_typeset_ms": round(typeset_ms, 1) if typeset_ms else None,
        "build_seconds": round(site_build.seconds, 1),
    }
    sh.write_json(sh.ARTIFACTS / "site_figures.json", figures)
    print("site figures:", figures)
    assert not blocked
    assert figures["site_bytes"] < 200 * 2**20
    assert nav_ms < 10_000


# ------------------------------------------------------------------------------------------ diagrams

DIAGRAM_FUNCTIONS = {
    "rnn_unrolled", "rnn_patterns", "bptt_flow", "lstm_cell", "gru_cell", "peephole_lstm_cell",
}


def diagram_cells(doc: str) -> list[tuple[int, nbformat.NotebookNode]]:
    """Code cells of the notebook ``doc`` that draw a ``course_lib.diagrams`` figure.

    A call counts when it is ``diagrams.<function>(...)`` or a bare ``<function>(...)`` that the notebook
    imported ``from course_lib.diagrams`` (chapters 3 and 4 also have exercises named lstm_cell, gru_cell).
    """
    nb = nbformat.read(ROOT / f"{doc}.ipynb", as_version=4)
    trees = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            try:
                trees.append((i, cell, ast.parse(cell.source)))
            except SyntaxError:
                continue
    imported = {
        alias.asname or alias.name
        for _, _, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "course_lib.diagrams"
        for alias in node.names
    }
    found = []
    for i, cell, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            by_module = isinstance(f, ast.Attribute) and f.attr in DIAGRAM_FUNCTIONS and getattr(
                f.value, "id", None) == "diagrams"
            by_name = isinstance(f, ast.Name) and f.id in imported and f.id in DIAGRAM_FUNCTIONS
            if by_module or by_name:
                found.append((i, cell))
                break
    return found


CHAPTER_DOCS = [doc for doc in NOTEBOOK_DOCS if not doc.endswith("00_setup_check")]
DIAGRAMS = {doc: diagram_cells(doc) for doc in NOTEBOOK_DOCS}


@pytest.mark.parametrize("doc", CHAPTER_DOCS)
def test_every_chapter_shows_its_diagram_with_caption_and_alt_text(doc):
    """Each chapter draws its cell with course_lib.diagrams, stored executed, with caption, name and alt."""
    cells = DIAGRAMS[doc]
    assert cells, f"{doc}: no cell draws a course_lib.diagrams figure (the chapter's diagram is missing)"
    for i, cell in cells:
        meta = cell.metadata.get("mystnb", {})
        caption = meta.get("figure", {}).get("caption", "")
        name = meta.get("figure", {}).get("name", "")
        alt = meta.get("image", {}).get("alt", "")
        assert caption.strip(), f"{doc} cell {i}: mystnb.figure.caption missing"
        assert name.startswith("fig-"), f"{doc} cell {i}: mystnb.figure.name missing (fig-...)"
        assert len(alt.strip()) >= 40, f"{doc} cell {i}: mystnb.image.alt missing or too short: {alt!r}"
        pngs = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(pngs) == 1, f"{doc} cell {i}: expected one stored PNG output, found {len(pngs)}"


def test_diagram_figures_have_their_alt_text_on_the_site(html_dir):
    checked, problems = 0, []
    for doc, cells in DIAGRAMS.items():
        page = (html_dir / f"{doc}.html").read_text(encoding="utf-8")
        for i, cell in cells:
            meta = cell.metadata.get("mystnb", {})
            name, alt = meta.get("figure", {}).get("name"), meta.get("image", {}).get("alt")
            if not name or not alt:
                continue  # reported by test_every_chapter_shows_its_diagram_with_caption_and_alt_text
            figure = re.search(rf'<figure[^>]*id="{re.escape(name)}"[^>]*>(.*?)</figure>', page, flags=re.S)
            if not figure:
                problems.append(f"{doc}: no <figure id={name!r}> on the page (cell {i}: not executed?)")
                continue
            alts = [html.unescape(a) for a in re.findall(r'<img[^>]*\balt="([^"]*)"', figure.group(1))]
            if alts != [alt]:
                problems.append(f"{doc} {name}: img alt on the page {alts} != the cell's alt text")
            checked += 1
    assert not problems, problems
    if not checked:
        pytest.skip("no diagram figure in the book yet")


def _luminance(rgb):
    import numpy as np

    return np.asarray(rgb, dtype=float)[..., :3] @ np.array([0.2126, 0.7152, 0.0722]) / 255.0


def test_diagrams_are_legible_in_dark_theme(browser, site_url):
    """In the dark theme each diagram shows as drawn: opaque light paper with dark ink, framed by the page.

    Checked on what the reader sees: a screenshot of each diagram's <img> in a dark-mode browser, and the
    image's own pixels (read back through a canvas: no transparent pixel lets the dark page through).
    """
    import numpy as np
    from PIL import Image

    figures = [(doc, cell.metadata["mystnb"]["figure"]["name"]) for doc, cells in DIAGRAMS.items()
               for _, cell in cells if cell.metadata.get("mystnb", {}).get("figure", {}).get("name")]
    if not figures:
        pytest.skip("no diagram figure in the book yet")
    sh.ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    context = sh.new_guarded_context(browser, blocked, color_scheme="dark")
    tab = context.new_page()
    problems = []
    for doc, name in figures:
        tab.goto(site_url + f"{doc}.html", wait_until="load")
        assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
        page_bg = tab.evaluate("getComputedStyle(document.body).backgroundColor")
        page_rgb = [int(v) for v in re.findall(r"\d+", page_bg)[:3]]
        assert _luminance(page_rgb) < 0.3, f"{doc}: the page is not dark ({page_bg}): the check is void"
        img = tab.locator(f"figure#{name} img")
        if img.count() != 1:
            problems.append(f"{doc} {name}: {img.count()} images in the figure")
            continue
        img.evaluate("el => el.scrollIntoView({block: 'center'})")  # clear of the sticky header
        tab.wait_for_timeout(100)
        alpha = tab.evaluate(
            """el => { const c = document.createElement('canvas'); c.width = el.naturalWidth;
                   c.height = el.naturalHeight; const g = c.getContext('2d'); g.drawImage(el, 0, 0);
                   const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
                   for (let k = 3; k < d.length; k += 4) if (d[k] < 255) n++; return [n, d.length / 4]; }""",
            img.element_handle(),
        )
        shot = np.asarray(Image.open(io.BytesIO(img.screenshot())).convert("RGB"))
        Image.fromarray(shot).save(sh.ARTIFACTS / f"dark-{name}.png")
        lum = _luminance(shot)
        # The theme dims images in the dark theme (pydata-sphinx-theme: brightness(.8) contrast(1.2)) and the
        # course's CSS rounds their corners: judge the edges without the corners, against the dark page.
        edges = [lum[:4, 12:-12], lum[-4:, 12:-12], lum[12:-12, :4], lum[12:-12, -4:]]
        edge = float(np.mean(np.concatenate([e.ravel() for e in edges])))
        paper = float(np.median(lum))
        ink = float(np.mean(lum < 0.35))
        if alpha[0]:
            problems.append(f"{doc} {name}: {alpha[0]} of {alpha[1]} pixels are transparent")
        if edge < 0.7:
            problems.append(f"{doc} {name}: the image's edge is dark in the dark theme ({edge:.2f})")
        if paper < 0.7:
            problems.append(f"{doc} {name}: the paper is not light in the dark theme ({paper:.2f})")
        if not 0.003 < ink < 0.5:
            problems.append(f"{doc} {name}: dark ink covers {ink:.3f} of the image (expected a line drawing)")
    context.close()
    assert not problems, problems
    assert not blocked


CAPSTONE_DOC = "book/07_capstone_folk_tunes"


def test_the_capstone_page_plays_a_generated_tune(browser, site_url):
    """The tune synthesised in the capstone notebook is embedded in the page and plays in Chromium."""
    blocked: list[str] = []
    context = sh.new_guarded_context(browser, blocked)
    tab = context.new_page()
    tab.goto(site_url + CAPSTONE_DOC + ".html")
    tab.wait_for_load_state("load")
    assert tab.locator("audio").count() >= 1, "no <audio> element on the capstone page"
    # Muted playback needs no user gesture under Chromium's autoplay policy; it still decodes and plays.
    state = tab.evaluate(
        """async () => {
            const audio = document.querySelector("audio");
            audio.muted = true;
            await audio.play();
            await new Promise(resolve => setTimeout(resolve, 600));
            return {time: audio.currentTime, paused: audio.paused, duration: audio.duration,
                    error: audio.error && audio.error.code, src: (audio.currentSrc || "").slice(0, 15)};
        }"""
    )
    context.close()
    assert state["error"] is None, state
    assert state["src"].startswith("data:audio/wav"), state
    assert 1.0 <= state["duration"] <= 30.0, state
    assert state["time"] > 0.1, state
    assert not blocked
