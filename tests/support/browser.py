"""A real headless Chromium (Debian's `chromium` and `chromium-driver`) driven by selenium,
downloading into a directory of the test's, and the screenshots people look at.

Every wait is a WebDriverWait with a timeout (or a bounded poll of the download
directory): a page that never comes fails the test, it does not hold the run.
Screenshots go to $MOTCUA_SMS_SCREENSHOTS, or to a temporary directory named on stderr.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS_ENV = "MOTCUA_SMS_SCREENSHOTS"
# Seconds a page, an element or a download has to come.
WAIT = 20.0
INSTALL_HINT = (
    "chromium or chromedriver not found: install the Debian packages 'chromium' and "
    "'chromium-driver' (apt-get install -y chromium chromium-driver)"
)
DESK = (1366, 900)
PHONE = (390, 844)


def screenshots_dir() -> Path:
    """Where screenshots go: $MOTCUA_SMS_SCREENSHOTS, else a fresh temporary directory
    (named on stderr, so the run says where to look)."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = Path(tempfile.mkdtemp(prefix="motcua-console-screenshots-"))
    print(f"console screenshots in {path}", file=sys.stderr)
    return path


def _options(downloads: Path, size: tuple[int, int]) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--lang=vi-VN",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    return options


@contextlib.contextmanager
def chromium(downloads: Path, size: tuple[int, int] = DESK) -> Iterator[WebDriver]:
    """A headless Chromium saving downloads into `downloads`; quit on exit."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(INSTALL_HINT, pytrace=False)
    downloads.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=_options(downloads, size))
    driver.set_page_load_timeout(WAIT)
    try:
        # Headless Chromium downloads only when told where (DevTools), whatever the prefs.
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        if size[0] < DESK[0]:
            # A window is at least 500 pixels wide: a phone's screen is emulated instead.
            metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 2}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics | {"mobile": True})
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, css: str, timeout: float = WAIT) -> WebElement:
    """The element `css` selects, once it is on the page."""
    return WebDriverWait(driver, timeout).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def wait_for_title(driver: WebDriver, text: str, timeout: float = WAIT) -> None:
    WebDriverWait(driver, timeout).until(ready.title_contains(text))


def downloaded(directory: Path, suffix: str, timeout: float = WAIT) -> Path:
    """The one finished file ending in `suffix` in `directory` (Chromium writes a
    .crdownload first and renames it when done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if p.name.endswith(suffix)]
        partial = [p for p in directory.iterdir() if p.name.endswith(".crdownload")]
        if len(done) == 1 and not partial:
            return done[0]
        time.sleep(0.05)
    raise TimeoutError(f"no {suffix} download in {directory} within {timeout:g} s")


def log_in(driver: WebDriver, url: str, user: str, password: str) -> None:
    """Through the login form, as a person does."""
    driver.get(url + "/dang-nhap")
    wait_for(driver, "#user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, "form.logout")


def screenshot(driver: WebDriver, directory: Path, name: str) -> Path:
    """The whole page (not only what the window shows) as `name`.png in `directory`."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path = directory / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
