"""What the package's and the example site's browser tests share: chromium, waits, screenshots.

Both suites drive Debian's chromium with Selenium against Django's live server
and are skipped when chromium or chromedriver is missing (``apt-get install -y
chromium chromium-driver``), unless ``TRACKABLE_BROWSER_TESTS=required``
(``.ci/run`` installs them and sets it). A test module imports this and sets
``pytestmark = BROWSER``. Not part of the package: both suites put this
directory on their path (``pythonpath`` in ``pyproject.toml`` and
``example_project/pytest.ini``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Where ``TRACKABLE_SCREENSHOTS=1`` writes the documentation's screenshots.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "img"

webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the [dev] extra)")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

# Test modules take Selenium's names from here: imported after the skip above.
__all__ = ["BROWSER", "BrowserTestMixin", "By", "Select", "chromium", "close_browser"]

_MISSING = f"needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install -y chromium chromium-driver"
_AVAILABLE = os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)
if not _AVAILABLE and os.environ.get("TRACKABLE_BROWSER_TESTS") == "required":
    raise RuntimeError(f"TRACKABLE_BROWSER_TESTS=required, but the browser tests {_MISSING}")

#: The ``pytestmark`` of a browser test module.
BROWSER = [pytest.mark.browser, pytest.mark.skipif(not _AVAILABLE, reason=_MISSING)]


def chromium(width: int) -> Any:
    """A headless chromium ``width`` pixels wide, with a profile of its own
    (:func:`close_browser` removes it)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="trackable-chromium-")
    for argument in (
        "--headless=new",
        # Needed as root (CI containers) and without a GPU or a large /dev/shm.
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # Nothing but the live server: no update checks, sync or first-run pages.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.trackable_profile = profile
    return driver


def close_browser(driver: Any) -> None:
    """Close ``driver`` and remove its profile."""
    profile = driver.trackable_profile
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class BrowserTestMixin:
    """For a ``StaticLiveServerTestCase``: one chromium per class, and the helpers of a page.

    Set ``width`` (the window the pages are laid out for) and log in with
    :meth:`log_in_as` with an account the test made.
    """

    width = 1280
    driver: Any
    live_server_url: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()  # type: ignore[misc]
        cls.driver = chromium(cls.width)
        cls.driver.implicitly_wait(0)

    @classmethod
    def tearDownClass(cls) -> None:
        close_browser(cls.driver)
        super().tearDownClass()  # type: ignore[misc]

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.driver.delete_all_cookies()

    def open(self, path: str) -> None:
        self.driver.get(self.live_server_url + path)

    def wait_for(self, css: str) -> Any:
        return WebDriverWait(self.driver, 10).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def click_and_wait(self, element: Any) -> None:
        """Click something that loads a new page, and wait until the new page has loaded.

        The old page is marked, and the wait ends at a complete document without the
        mark. Not ``staleness_of``: asked about a node of the page being left,
        chromedriver can answer "Node with given id does not belong to the document"
        instead of "stale element", so questions asked mid-navigation are asked again.
        """
        self.driver.execute_script("window.trackableOldPage = true")
        element.click()
        WebDriverWait(self.driver, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(
                "return !window.trackableOldPage && document.readyState === 'complete'"
            )
        )

    def log_in_as(self, username: str, password: str) -> None:
        """Log in through the admin's login page."""
        self.open("/admin/login/?next=/admin/")
        # Found once the page has settled: a node of a page still loading can vanish.
        self.wait_for("input[type=submit]")
        self.wait_for("input[name=username]").send_keys(username)
        self.wait_for("input[name=password]").send_keys(password)
        self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
        self.wait_for("#site-name")
        assert "/admin/login/" not in self.driver.current_url

    def screenshot(self, name: str, *, max_height: int = 2400) -> None:
        """With TRACKABLE_SCREENSHOTS=1, the page (``max_height`` at most) as docs/img/NAME.png."""
        if os.environ.get("TRACKABLE_SCREENSHOTS") != "1":
            return
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        height = min(int(metrics["cssContentSize"]["height"]), max_height)
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
