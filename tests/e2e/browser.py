"""Debian's chromium, headless, driven by selenium through Debian's chromedriver: no browser is downloaded.
Installed by scripts/ensure_system_tools.sh (make install) on CI; elsewhere a test that needs them is skipped
(on CI, CI=true, it fails instead)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


def _need(name: str, *candidates: str) -> str:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    message = f"{name} is missing: run scripts/ensure_system_tools.sh (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless chromium with a fresh profile, its console kept (driver.get_log("browser"))."""
    binary = _need("chromium", "chromium", "chromium-browser")
    driver_path = _need("chromedriver", "chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="motcua-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()
