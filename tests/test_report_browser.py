"""The built HTML report in a real browser, offline: every figure and table shown, no request
leaves the machine (issue 6: a self-contained report); at a 1,280-pixel window the page does
not scroll sideways, every table fits its column or scrolls in its own container, and the
tables and figures carry the paper's numbers (issue 13).

Headless Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
the browser reads commands from fd 3 and writes replies to fd 4, NUL-separated JSON), so no
WebSocket client is needed. Its network is cut twice over: every host name fails to resolve
and every connection goes to a proxy on the discard port, where nothing listens.
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from captions import OWN_LABELS, PAPER_CAPTIONS
from projectcopy import results_of

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y chromium)"
)

TABLES = ["table2", "table3", "table4", "table5", "feasibility_metrics"]
FIGURES = ["consort", "timeline", "completeness"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
OFFLINE_FLAGS = ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]
VIEWPORT = (1280, 900)
TIMEOUT = 30.0


class Chromium:
    """A headless Chromium with one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, profile: Path):
        self.profile = profile
        self.events: list[dict] = []
        self._next_id = 0
        self._buffer = b""

    def __enter__(self) -> "Chromium":
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def pipe_fds():  # in the child: the protocol's fds 3 (commands) and 4 (replies)
            commands, replies = os.dup(to_browser), os.dup(from_browser)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
                *OFFLINE_FLAGS,
                "about:blank",
            ],
            preexec_fn=pipe_fds,
            close_fds=False,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            self.page(f"{domain}.enable")
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=VIEWPORT[0],
            height=VIEWPORT[1],
            deviceScaleFactor=1,
            mobile=False,
        )
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except (OSError, TimeoutError, ConnectionError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        finally:
            os.close(self._read)
            os.close(self._write)

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def page(self, method: str, **params) -> dict:
        return self.send(method, self.session, **params)

    def load(self, url: str) -> None:
        """Navigate and wait for the load event (all images decoded or failed)."""
        seen = len(self.events)
        self.page("Page.navigate", url=url)
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events[seen:]):
            self.events.append(self._message(deadline))

    def evaluate(self, expression: str):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"]["value"]

    def screenshot(self, clip: dict | None = None) -> bytes:
        params = {"format": "png"}
        if clip:
            params |= {"clip": {**clip, "scale": 1}, "captureBeyondViewport": True}
        return base64.b64decode(self.page("Page.captureScreenshot", **params)["data"])

    def requested(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def failed(self) -> list[dict]:
        return [e["params"] for e in self.events if e.get("method") == "Network.loadingFailed"]


def remote(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith(LOCAL_SCHEMES)]


def ink(png: bytes) -> float:
    """Share of pixels that are not (near) white."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[:240]) / (image.width * image.height)


FIGURES_JS = """[...document.images].map(img => {
  const box = img.getBoundingClientRect(), style = getComputedStyle(img);
  return {src: img.currentSrc, complete: img.complete, natural: img.naturalWidth,
          alt: img.alt, width: box.width, height: box.height,
          x: box.left + scrollX, y: box.top + scrollY,
          visible: style.display !== 'none' && style.visibility === 'visible',
          caption: img.closest('figure')?.querySelector('figcaption')?.textContent ?? ''};
})"""

TABLES_JS = """%s.map(id => {
  const div = document.getElementById(id), table = div?.querySelector('table');
  return {id, found: !!table, height: table ? table.getBoundingClientRect().height : 0,
          title: div?.querySelector('.gt_title')?.innerText ?? '',
          rows: table ? table.querySelectorAll('tbody th.gt_stub').length : 0,
          text: table ? table.innerText : ''};
})"""


LAYOUT_JS = """(() => {
  // lines of text in an element, footnote marks aside (they sit raised on their line)
  const lines = el => {
    const tops = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!node.textContent.trim() || node.parentElement.closest('.gt_footnote_marks')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) tops.push(rect.top);
    }
    tops.sort((a, b) => a - b);
    return tops.filter((t, i) => i === 0 || t - tops[i - 1] > 6).length;
  };
  const scroller = el => {   // the nearest ancestor that scrolls sideways
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return p;
    }
    return null;
  };
  return {
    pageWidth: document.documentElement.scrollWidth, windowWidth: innerWidth,
    tables: [...document.querySelectorAll('table')].map(table => {
      const box = table.getBoundingClientRect(), own = scroller(table);
      const column = (own || table.parentElement).getBoundingClientRect();
      return {id: table.closest('[id]')?.id ?? '', left: box.left, right: box.right,
              columnLeft: column.left, columnRight: column.right,
              scrolls: !!own, ownRight: own ? own.getBoundingClientRect().right : null,
              wrapped: [...table.querySelectorAll('tbody th, tbody td')]
                         .filter(cell => lines(cell) > 1).map(cell => cell.innerText)};
    }),
    captions: [...document.querySelectorAll('.gt_title, figcaption')].map(e => e.innerText.trim()),
  };
})()"""


@pytest.fixture(scope="module")
def report_page(built_project, tmp_path_factory):
    """The built report loaded offline: what was requested, shown and painted."""
    html = results_of(built_project) / "report" / "feasibility.html"
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as browser:
        browser.load(html.as_uri())
        figures = browser.evaluate(FIGURES_JS)
        tables = browser.evaluate(TABLES_JS % json.dumps(TABLES))
        layout = browser.evaluate(LAYOUT_JS)
        screenshot = browser.screenshot()
        painted = [browser.screenshot({k: f[k] for k in ("x", "y", "width", "height")}) for f in figures]
        return dict(
            url=html.as_uri(),
            requested=browser.requested(),
            failed=browser.failed(),
            figures=figures,
            tables=tables,
            screenshot=screenshot,
            painted=painted,
            layout=layout,
        )


def test_the_offline_detector_sees_a_remote_request(tmp_path):
    """Control: the same browser set-up records, and blocks, a page's request to the web."""
    page = tmp_path / "remote.html"
    page.write_text(
        '<img src="https://example.org/pixel.png"><link rel="stylesheet" '
        'href="http://fonts.example.org/a.css">'
    )
    with Chromium(tmp_path / "profile") as browser:
        browser.load(page.as_uri())
        assert sorted(remote(browser.requested())) == [
            "http://fonts.example.org/a.css",
            "https://example.org/pixel.png",
        ]
        assert len(browser.failed()) == 2  # neither reached the network


def test_the_report_makes_no_network_request(report_page):
    requested = report_page["requested"]
    assert requested[0] == report_page["url"]  # the recorder was on from the first request
    assert remote(requested) == []
    assert report_page["failed"] == []
    # the three figures are data: URIs inside the page
    assert sum(u.startswith("data:image/svg+xml") for u in requested) == len(FIGURES)


def test_every_figure_is_shown(report_page, built_project):
    figures = report_page["figures"]
    assert len(figures) == len(FIGURES)
    embedded = [base64.b64decode(f["src"].partition(",")[2]) for f in figures]
    for name in FIGURES:  # each figure the pipeline drew, byte for byte, exactly once
        svg = (results_of(built_project) / "figures" / f"{name}.svg").read_bytes()
        assert embedded.count(svg) == 1, name
    for f in figures:
        assert f["complete"] and f["natural"] > 0, f["caption"]  # decoded
        assert f["visible"] and f["width"] > 200 and f["height"] > 100, f["caption"]
        assert f["caption"] and f["alt"], f["caption"]


def test_every_figure_is_painted(report_page):
    for f, png in zip(report_page["figures"], report_page["painted"]):
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert ink(png) > 0.02, f["caption"]  # lines, boxes and labels, not a blank box


def test_every_table_is_shown_with_all_its_cells(report_page, built_project):
    for table in report_page["tables"]:
        cells = pd.read_csv(
            results_of(built_project) / "tables" / f"{table['id']}.csv", dtype=str, keep_default_na=False
        )
        assert table["found"] and table["height"] > 50, table["id"]
        assert table["title"].strip(), table["id"]
        assert table["rows"] == len(cells[["row_group", "row_label"]].drop_duplicates()), table["id"]
        shown = " ".join(table["text"].split())  # rendered text: hidden text is not in it
        for text in cells.loc[cells["text"] != "", "text"]:
            assert " ".join(text.split()) in shown, (table["id"], text)


def test_the_screenshot_is_not_blank(report_page, tmp_path):
    png = report_page["screenshot"]
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == VIEWPORT
    assert 0.01 < ink(png) < 0.5  # the title and contents on a white page
    (tmp_path / "report.png").write_bytes(png)


# ----------------------------------------------------------------------------- layout (issue 13)
def test_the_page_does_not_scroll_sideways_at_1280_px(report_page):
    layout = report_page["layout"]
    assert layout["windowWidth"] == VIEWPORT[0]
    assert layout["pageWidth"] <= layout["windowWidth"]


def test_every_table_fits_its_column_or_scrolls_in_its_own_container(report_page):
    tables = report_page["layout"]["tables"]
    assert {t["id"] for t in tables} >= set(TABLES)
    for t in tables:
        if t["scrolls"]:  # then the container, not the page, is what must fit
            assert t["ownRight"] <= VIEWPORT[0], t["id"]
        else:
            assert t["columnLeft"] - 1 <= t["left"] and t["right"] <= t["columnRight"] + 1, t["id"]


def test_the_papers_tables_fit_without_wrapping_a_cell(report_page):
    """Table 3, the widest, and the other tables of the paper show every cell on one line."""
    for t in report_page["layout"]["tables"]:
        if t["id"] in TABLES:
            assert t["wrapped"] == [], t["id"]
            assert t["right"] <= t["columnRight"] + 1, t["id"]  # without scrolling


def test_tables_and_figures_carry_the_papers_numbers(report_page):
    captions = [" ".join(c.split()) for c in report_page["layout"]["captions"]]
    for caption in PAPER_CAPTIONS:
        assert sum(c.startswith(caption) for c in captions) == 1, caption
    labels = [" ".join(c.split()[:2]) for c in captions]
    assert len(labels) == len(set(labels)), labels  # each number once
    # the tables and figures the paper lacks come after its Tables 1-8 and Figures 1-2
    assert set(OWN_LABELS) <= set(labels)
