"""The supervisor view in a real browser (Debian's headless Chromium driven by Selenium) against
the handoff service's app on a real port: an agent without the role is refused, a supervisor sees
the figures and the plots rendered, and downloads the CSV export.

Selenium is synchronous: browser steps run in a worker thread so the app keeps serving.
"""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.handoff.app import create_app
from bot.settings import Settings
from tests.insights.helpers import Sources
from tests.insights.test_metrics import _mixed_traffic, _served

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
T = TypeVar("T")


async def ui(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)


def _chromium(downloads: Path) -> webdriver.Chrome:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed: run scripts/install.sh --browser", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def _log_in(driver: webdriver.Chrome, base: str, name: str, password: str) -> None:
    driver.get(f"{base}/supervisor")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{base}/supervisor")
    form = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "login") if d.find_element(
        By.ID, "login").is_displayed() else None)
    form.find_element(By.NAME, "name").send_keys(name)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.TAG_NAME, "button").click()


def _refused(driver: webdriver.Chrome, base: str) -> str:
    _log_in(driver, base, "bob", "pw-b")
    error = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "error").text or None)
    assert not driver.find_element(By.ID, "view").is_displayed()
    return error


def _supervisor(driver: webdriver.Chrome, base: str, downloads: Path) -> tuple[str, int, list[dict[str, str]]]:
    _log_in(driver, base, "alice", "pw-a")
    table = WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "table") if "Conversations" in d.find_element(By.ID, "table").text else None)
    width = WebDriverWait(driver, 60).until(lambda d: d.execute_script(
        "const i = document.getElementById('plot-daily_containment'); return i.complete && i.naturalWidth"))
    driver.find_element(By.ID, "csv").click()
    target = downloads / "tandem-insights.csv"
    deadline = time.monotonic() + 20
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = list(csv.DictReader(target.open(encoding="utf-8"))) if target.exists() else []
    return table.text, int(width), rows


async def test_supervisor_view_in_a_browser(sources: Sources, aiohttp_server: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_AGENTS", "alice:pw-a,bob:pw-b")
    monkeypatch.setenv("TANDEM_SUPERVISORS", "alice")
    monkeypatch.setenv("TANDEM_INSIGHTS_CONSUME", "0")
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    _mixed_traffic(sources)
    _served(sources, "v", "h-v", wait=45, reply=5, handle=100, rating=4)
    await sources.consume()
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(sources.tmp), "RASA_TOKEN": "test-token",
                                  "RASA_URL": "http://127.0.0.1:9"})
    server = await aiohttp_server(create_app(settings, consume=False))
    base = str(server.make_url("")).rstrip("/")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = await ui(_chromium, downloads)
    try:
        assert "supervisor role" in await ui(_refused, driver, base)
        text, width, rows = await ui(_supervisor, driver, base, downloads)
    finally:
        await ui(driver.quit)
    assert "Conversations 4" in text and "Contained (no person) 1 (25.0%)" in text
    assert width > 100  # the PNG decoded and rendered
    figures = {(r["section"], r["key"]): r["value"] for r in rows}
    assert figures[("total", "conversations")] == "4" and figures[("total", "handoffs")] == "3"
