"""The demo in a real browser: the tour of the docs' home page, step by step.

Each test seeds the demo as ``make demo`` does (``seed_demo``, then
``seed_prices``), logs in with the account ``seed_demo`` prints, and walks
through some pages of the site, checking what each page shows. With
``TRACKABLE_SCREENSHOTS=1`` every step is also saved as
``docs/img/demo-<step>.png`` (the tour in ``docs/index.md``).

Like the package's own browser tests (``tests/test_admin_browser.py``), and
with the same helpers (``testing/browser_support.py``), these drive Debian's
chromium with Selenium and are skipped when chromium or chromedriver is
missing (``apt-get install -y chromium chromium-driver``), unless
``TRACKABLE_BROWSER_TESTS=required``. Select them with ``-m browser``.
"""

from __future__ import annotations

import io
import re
from typing import Any

from browser_support import BROWSER, BrowserTestMixin, By, Select
from django.conf import global_settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.management import call_command
from django.test import override_settings
from shop.models import Order, Product

#: "Log in as <e-mail> / <password>", as seed_demo prints it.
LOGIN = re.compile(r"Log in as (?P<email>\S+) / (?P<password>\S+)")

pytestmark = BROWSER


class DemoTour(BrowserTestMixin, StaticLiveServerTestCase):
    """What a newcomer sees in the first five minutes of ``make demo``."""

    # The width the demo's change lists are laid out for (shop/admin.py).
    width = 1366

    # -- helpers -----------------------------------------------------------------------

    def seed_and_log_in(self) -> None:
        """What ``make demo`` does before serving, then log in as ``seed_demo`` says."""
        out = io.StringIO()
        call_command("seed_demo", "--addr", self.live_server_url.split("//")[1], stdout=out)
        call_command("seed_prices", stdout=io.StringIO())
        login = LOGIN.search(out.getvalue())
        assert login, out.getvalue()
        self.email, self.password = login["email"], login["password"]
        self.log_in()

    def link(self, text: str) -> Any:
        return self.driver.find_element(By.LINK_TEXT, text)

    def log_in(self) -> None:
        self.log_in_as(self.email, self.password)

    def heading(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "h1").text)

    def screenshot(self, step: str, *, max_height: int = 1600) -> None:
        """With TRACKABLE_SCREENSHOTS=1, the page as docs/img/demo-<step>.png."""
        super().screenshot(f"demo-{step}", max_height=max_height)

    def rows(self) -> dict[str, str]:
        """The change list's rows: the first column's text -> the row's text."""
        return {
            row.find_element(By.CSS_SELECTOR, "th, td.field-__str__").text: row.text
            for row in self.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        }

    # -- the tour ----------------------------------------------------------------------

    def test_the_products_show_who_changed_them_their_history_and_a_past_version(self) -> None:
        self.seed_and_log_in()
        self.open("/admin/shop/product/")
        self.wait_for("#result_list")
        assert self.driver.find_element(By.CSS_SELECTOR, "th.column-last_change").text == (
            "LAST CHANGE"
        )
        rows = self.rows()
        assert "by alice@example.com" in rows["Desk lamp"]
        assert "by bob@example.com" in rows["Office chair"]
        assert "Notebook" not in rows  # soft-deleted: hidden from the list
        self.screenshot("products")

        self.click_and_wait(self.link("Desk lamp"))
        self.click_and_wait(self.wait_for("a.historylink"))
        self.wait_for(".paginator")  # the end of the entries
        entries = self.driver.find_elements(By.CSS_SELECTOR, ".trackable-entry")
        assert [entry.get_attribute("data-action") for entry in entries] == [
            "update",
            "update",
            "update",
            "create",
        ]
        newest, restock, edit, _create = entries
        assert "by alice@example.com" in newest.text
        description = newest.find_element(By.CSS_SELECTOR, "tr[data-field=description]").text
        assert description.endswith("warm LED. → Adjustable arm, warm LED, USB-C.")
        assert "“restock”" in restock.text
        changes = {
            row.get_attribute("data-field"): row.text
            for row in edit.find_elements(By.CSS_SELECTOR, "tr.trackable-change")
        }
        assert "24.90" in changes["price"] and "22.50" in changes["price"]
        assert "ACME" in changes["supplier"]  # the supplier's name, not its key
        self.screenshot("product-history")

        self.click_and_wait(edit.find_element(By.CSS_SELECTOR, "a.trackable-as-of-link"))
        self.wait_for(".trackable-changed-since")
        assert self.heading().startswith("Desk lamp as of ")
        price = self.driver.find_element(By.CSS_SELECTOR, ".field-price .readonly").text
        assert price.startswith("22.50")
        stock = self.driver.find_element(By.CSS_SELECTOR, ".field-stock .readonly").text
        assert stock.startswith("12") and stock.endswith("changed since")  # 57 now
        self.screenshot("as-of")

    def test_the_recent_changes_page_lists_the_last_days_changes_newest_first(self) -> None:
        self.seed_and_log_in()
        self.open("/")
        self.wait_for(".trackable-entry")
        assert self.heading().startswith("What changed since ")
        heads = [
            head.text
            for head in self.driver.find_elements(By.CSS_SELECTOR, ".trackable-entry-head")
        ]
        assert "Order" in heads[0] and "by carol@example.com" in heads[0]
        assert "Office chair" in heads[1] and "by bob@example.com" in heads[1]
        assert "Desk lamp" in heads[2] and "by alice@example.com" in heads[2]
        assert "Globex Corporation" in self.driver.find_element(By.TAG_NAME, "body").text
        self.screenshot("recent-changes")

    def test_a_deleted_product_offers_a_restore_and_a_restored_one_shows_both_steps(self) -> None:
        self.seed_and_log_in()
        self.open("/admin/shop/product/?deleted=include")
        self.wait_for("#result_list")
        self.click_and_wait(self.link("Notebook"))
        banner = self.wait_for("#trackable-deleted-banner")
        assert "was deleted on" in banner.text and f"by {self.email}" in banner.text
        self.screenshot("deleted-product")

        mug = Product.objects.get(sku="MUG-1")
        self.open(f"/admin/shop/product/{mug.pk}/history/")
        self.wait_for(".paginator")
        entries = self.driver.find_elements(By.CSS_SELECTOR, ".trackable-entry")
        actions = [entry.get_attribute("data-action") for entry in entries]
        assert actions[:2] == ["restore", "delete"]
        assert "by alice@example.com" in entries[0].text
        assert "“deleted by mistake”" in entries[0].text
        assert "by bob@example.com" in entries[1].text
        self.screenshot("restored-product")

    def test_an_order_is_marked_paid_by_the_lists_action_and_lands_in_the_audit_log(
        self,
    ) -> None:
        self.seed_and_log_in()
        newest = Order.objects.filter(status=Order.Status.NEW).latest("created_at")
        self.open("/admin/shop/order/")
        self.wait_for("#result_list")
        row = self.rows()[str(newest)]
        assert "New" in row and "paid, cancelled" in row  # what it can become
        self.driver.find_element(
            By.CSS_SELECTOR, f"input[name=_selected_action][value='{newest.pk}']"
        ).click()
        Select(self.driver.find_element(By.NAME, "action")).select_by_visible_text(
            "Mark selected orders as paid"
        )
        self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, "button[name=index]"))
        message = self.wait_for(".messagelist .success")
        assert message.text == "1 order marked as paid."
        row = self.rows()[str(newest)]
        assert "Paid" in row and "shipped, cancelled" in row
        newest.refresh_from_db()
        assert newest.status == Order.Status.PAID
        self.screenshot("order-action")

        self.open("/admin/django_trackable/auditlog/")
        self.wait_for("#result_list")
        first = self.driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr")
        assert "Status changed" in first.text and str(newest) in first.text
        assert self.email in first.text
        self.screenshot("audit-log", max_height=1000)

    def test_the_activity_page_charts_four_weeks_of_changes_visits_and_logins(self) -> None:
        self.seed_and_log_in()
        self.open("/admin/django_trackable/auditlog/activity/")
        self.wait_for("svg.trackable-chart-svg")
        charts = self.driver.find_elements(By.CSS_SELECTOR, "figure.trackable-chart")
        assert [chart.get_attribute("id") for chart in charts] == [
            "trackable-chart-changes",
            "trackable-chart-visits",
            "trackable-chart-logins",
        ]
        for chart in charts:
            bars = chart.find_elements(By.CSS_SELECTOR, "rect.trackable-bar")
            assert len([bar for bar in bars if float(bar.get_attribute("height")) > 0]) >= 8
        assert charts[2].find_elements(By.CSS_SELECTOR, "rect.trackable-bar-failed")
        self.screenshot("activity")

    # Django's hasher, not conftest.py's MD5: the user's page shows the algorithm.
    @override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS)
    def test_a_users_page_leads_to_their_visits_and_devices(self) -> None:
        self.seed_and_log_in()
        alice = get_user_model().objects.get(email="alice@example.com")
        self.open(f"/admin/accounts/user/{alice.pk}/change/")
        links = self.wait_for(".trackable-activity-links")
        labels = [link.text for link in links.find_elements(By.TAG_NAME, "a")]
        assert labels[0] == "Changes they made (audit log)"
        assert set(labels[1:-4]) == {
            f"{models} they created or changed"
            for models in ("Users", "Products", "Orders", "Suppliers")
        }
        assert labels[-4:] == [
            "Visits",
            "Login attempts",
            "Devices",
            "Activity charts (all users)",
        ]
        self.screenshot("user")

        self.click_and_wait(links.find_element(By.LINK_TEXT, "Devices"))
        self.wait_for("#result_list")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == 2  # a phone and a laptop
        assert all("Paris" in row.text for row in rows)
        self.screenshot("devices", max_height=900)

        self.driver.back()
        links = self.wait_for(".trackable-activity-links")
        self.click_and_wait(links.find_element(By.LINK_TEXT, "Visits"))
        self.wait_for("#result_list")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == 8
        assert "/admin/shop/product/" in " ".join(row.text for row in rows)
        self.screenshot("visits", max_height=1100)

    def test_an_offers_page_charts_its_recorded_price(self) -> None:
        self.seed_and_log_in()
        self.open("/admin/pricing/offer/")
        self.wait_for("#result_list")
        self.click_and_wait(self.link("Standing desk from Globex Corporation"))
        chart = self.wait_for(".field-records_chart svg")
        assert chart.find_elements(By.CSS_SELECTOR, "rect, polyline, path")
        self.screenshot("offer-records", max_height=1000)
