"""The index and the nightly reports as a person sees them, in Debian's headless Chromium.

Selenium drives /usr/bin/chromium through /usr/bin/chromedriver (no browser download).
Chromium's own network log is the witness that no request leaves the machine.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from recon.cli import main
from recon.demo import drop_exports
from tests.conftest import write_config

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
           "chromium-driver fonts-noto-cjk; .ci/run installs them)")

HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Two nights (the second with a rejected export), a penalty, the month's assessment."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    write_config(folder)
    cfg = ["--config", str(folder / "recon.toml")]
    assert main(cfg + ["scaling", "add", "--id", "KR-1", "--item", "14", "--target", "60",
                       "--requested", "2026-11-01", "--notice-date", "2026-11-09",
                       "--notice-deadline", "2026-11-10"]) == 0
    drop_exports(folder / "exports", date(2026, 11, 10))
    assert main(cfg + ["run", "--date", "2026-11-10", "-q"]) == 1
    drop = drop_exports(folder / "exports", date(2026, 11, 11))
    (drop / "security.csv").write_bytes(
        (HEADER + "17,主机杀毒服务,av,<杀毒>,-74,70,台\n").encode("gbk"))
    assert main(cfg + ["run", "--date", "2026-11-11", "-q"]) == 2
    # writes OUT/monthly/2026-11/ and refreshes the index
    assert main(cfg + ["report", "monthly", "--month", "2026-11"]) == 0
    return folder / "out"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--lang=zh-CN"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, path: Path, width: int = 1200, height: int = 900):
    driver.set_window_size(width, height)
    driver.get_log("browser")  # start each page with empty logs
    driver.get_log("performance")
    driver.get(path.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    return driver


def requests_made(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def test_charts_render_with_a_size(site, browser):
    open_page(browser, site / "index.html")
    charts = browser.find_elements("css selector", "svg.chart")
    # findings per night, penalties, sources, and one delivered-ratio chart per measured item
    assert len(charts) >= 4
    for chart in charts:
        box = browser.execute_script("const r = arguments[0].getBoundingClientRect();"
                                     "return [r.width, r.height];", chart)
        assert box[0] > 100 and box[1] > 30, chart.get_attribute("aria-label")
    bars = browser.execute_script(
        "return [...document.querySelectorAll('svg.chart rect')]"
        ".filter(r => r.getBoundingClientRect().height > 0).length")
    assert bars > 0


def test_chinese_text_is_present_and_values_stay_text(site, browser):
    open_page(browser, site / "index.html")
    text = browser.find_element("tag name", "body").text
    assert "政务云资源核对 · 历史总览" in text and "每晚核对" in text
    assert "第十二条上限" in text and "人民币" in text
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"


def test_every_link_resolves_to_a_page_that_loads(site, browser):
    """Follow every link from the index, and every link on the pages it reaches."""
    start = (site / "index.html").resolve()
    seen, todo = {start}, [start]
    while todo:
        page = todo.pop()
        open_page(browser, page)
        assert browser.title, page
        assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"], page
        for link in [a.get_attribute("href") for a in
                     browser.find_elements("css selector", "a[href]")]:
            assert link.startswith("file:"), (page, link)
            target = Path(unquote(urlsplit(link).path)).resolve()
            assert target.is_file(), (page, link)
            if target not in seen:
                seen.add(target)
                todo.append(target)
    names = {p.relative_to(site.resolve()).as_posix() for p in seen}
    assert {"index.html", "2026-11-10/nightly.html", "2026-11-11/nightly.html",
            "monthly/2026-11/assessment.html"} <= names
    open_page(browser, site / "2026-11-11" / "nightly.html")
    assert "政务云资源核对日报" in browser.find_element("tag name", "body").text


def test_no_request_leaves_the_machine_and_no_script_errors(site, browser):
    for page in (site / "index.html", site / "2026-11-10" / "nightly.html",
                 site / "2026-11-11" / "nightly.html", site / "monthly" / "2026-11" /
                 "assessment.html"):
        open_page(browser, page)
        urls = requests_made(browser)
        assert urls and all(u.startswith(("file:", "data:")) for u in urls), urls
        assert browser.get_log("browser") == [], page  # no errors, no CSP violations


def test_index_reads_on_a_phone(site, browser):
    open_page(browser, site / "index.html", width=390, height=844)
    page_width, view = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert page_width <= view + 1  # no sideways scrolling of the page itself
    chart = browser.find_element("css selector", "svg.chart")
    assert 0 < chart.size["width"] <= view
