"""report.html as a person sees it: headless Chromium (the distribution's package, which
``.ci/run`` installs) at 1280×1000. The answer is on the first screen, no element runs
off the page's width, every image loads and every link of the table of contents lands on a
heading. Skips, saying why, where no Chromium exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gilbench.bench.report import render
from gilbench.bench.results import load

pytestmark = pytest.mark.slow  # a real render of a 440-cell run, and a browser

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
REFERENCE = Path(__file__).resolve().parent.parent / "reports" / "reference" / \
    "dev-2cpu-standard-2026-12-06.json"
# What the page says of its own layout once loaded (positions in CSS pixels from the top).
PROBE = """<script>window.addEventListener('load', () => {
  const top = e => e ? Math.round(e.getBoundingClientRect().top + window.scrollY) : null;
  const width = document.documentElement.clientWidth;
  const out = {
    headings: Object.fromEntries([...document.querySelectorAll('h2')].map(h => [h.id, top(h)])),
    first_table: top(document.querySelector('table')),
    overflowing: [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > width + 1)
      .map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40)).slice(0, 5),
    broken_images: [...document.images].filter(i => !i.complete || !i.naturalWidth).length,
    images: document.images.length,
    links: [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href')),
  };
  const pre = document.createElement('pre');
  pre.id = 'gilbench-layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (.ci/run installs the "
                    "distribution's chromium package)")
def test_the_reports_first_screen_holds_the_answer(tmp_path):
    render(load(REFERENCE), tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    r = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                        "--window-size=1280,1000", "--virtual-time-budget=10000",
                        "--dump-dom", probed.as_uri()],
                       capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="gilbench-layout">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    layout = json.loads(found.group(1))
    heads = layout["headings"]
    # The answer first: the verdicts, and the summary table they come from, on the first
    # screen; the article's claims and the methods after the charts and the costs.
    assert heads["verdicts"] < heads["summary"] < heads["workloads"] < heads[
        "findings-the-articles-claims-measured"] < heads["how-to-read-this-report"]
    assert layout["first_table"] < 1000, layout
    assert layout["overflowing"] == [], layout["overflowing"]
    assert layout["images"] > 10 and layout["broken_images"] == 0
    # Every link of the table of contents lands on a heading of the page.
    links = [h.removeprefix("#") for h in layout["links"]]
    assert "verdicts" in links and set(links) <= set(heads), set(links) - set(heads)
