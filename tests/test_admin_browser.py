"""The admin in a real browser: Selenium driving Debian's chromium against a live server.

Skipped when chromium or chromedriver is missing (``apt-get install -y chromium
chromium-driver``), unless ``TRACKABLE_BROWSER_TESTS=required`` (``.ci/run``
installs them and sets it); what the example site's browser tests share with
these is in ``testing/browser_support.py``. Select them with ``-m browser``.
With ``TRACKABLE_SCREENSHOTS=1`` the tests also write the documentation's
screenshots to ``docs/img/``.
"""

from __future__ import annotations

import datetime

import time_machine
from browser_support import BROWSER, BrowserTestMixin, By, Select
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings
from django.utils import timezone

from django_trackable import acting_as
from django_trackable.models import AuditLog, LoginAttempt, UserVisit
from tests.adminapp.models import Issue, Priority
from tests.testapp.models import Author, Category

PASSWORD = "browser-pw"

pytestmark = BROWSER


@override_settings(ROOT_URLCONF="tests.adminapp.urls", TRACKABLE={"AUDIT_LOG": True})
class AdminInTheBrowser(BrowserTestMixin, StaticLiveServerTestCase):
    """Log in, edit, read the history, revert, restore, look at the charts."""

    width = 1280

    def setUp(self) -> None:
        super().setUp()
        self.admin = get_user_model().objects.create_superuser(
            "admin", "admin@example.com", PASSWORD
        )

    def log_in(self) -> None:
        self.log_in_as("admin", PASSWORD)

    # -- the tests -----------------------------------------------------------------------

    def test_edit_an_object_read_its_history_and_revert_it(self) -> None:
        users = get_user_model().objects
        alice = users.create_user("alice", "alice@example.com", "pw")
        bob = users.create_user("bob", "bob@example.com", "pw")
        lighting = Category.objects.create(name="Lighting")
        furniture = Category.objects.create(name="Furniture")
        now = timezone.now()
        with acting_as(alice), time_machine.travel(now - datetime.timedelta(days=3), tick=False):
            issue = Issue.objects.create(
                title="Desk lamp flickers",
                body="The desk lamp in room 4 flickers when the heating is on. "
                "It started last week and happens every morning.",
                category=lighting,
                access_token="tok-live-1",
                data={"room": 4, "floor": 1},
            )
        with acting_as(bob), time_machine.travel(now - datetime.timedelta(hours=26), tick=False):
            issue.assignee = alice
            issue.priority = Priority.HIGH
            issue.access_token = "tok-live-2"
            issue.save()

        self.log_in()
        self.open(f"/admin/adminapp/issue/{issue.pk}/change/")
        title = self.wait_for("#id_title")
        title.clear()
        title.send_keys("Desk lamp flickers in the morning")
        body = self.driver.find_element(By.ID, "id_body")
        body.clear()
        body.send_keys(
            "The desk lamp in room 4 flickers when the radiator is on. "
            "It started last week and happens every morning before nine."
        )
        Select(self.driver.find_element(By.ID, "id_state")).select_by_visible_text(
            "Closed for good"
        )
        Select(self.driver.find_element(By.ID, "id_category")).select_by_visible_text(
            str(furniture)
        )
        self.click_and_wait(self.driver.find_element(By.NAME, "_continue"))
        self.wait_for(".messagelist .success")

        self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, "a.historylink"))
        newest = self.wait_for(".trackable-entry")
        assert newest.get_attribute("data-action") == "update"
        assert "admin" in newest.find_element(By.CSS_SELECTOR, ".trackable-who").text
        rows = {
            row.get_attribute("data-field"): row.text
            for row in newest.find_elements(By.CSS_SELECTOR, "tr.trackable-change")
        }
        assert "Open" in rows["state"] and "Closed for good" in rows["state"]
        assert "Lighting" in rows["category"] and "Furniture" in rows["category"]
        assert newest.find_element(By.CSS_SELECTOR, ".trackable-worddiff ins").text
        page = self.driver.page_source
        assert "changed (hidden)" in page and "tok-live" not in page
        self.screenshot("admin-history")

        bobs = self.driver.find_elements(By.CSS_SELECTOR, ".trackable-entry")[1]
        self.click_and_wait(bobs.find_element(By.CSS_SELECTOR, "a.trackable-as-of-link"))
        self.wait_for(".trackable-changed-since")
        self.screenshot("admin-as-of")

        self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, "a.trackable-revert-link"))
        confirm = self.wait_for("#trackable-confirm-revert")
        assert "Furniture" in self.driver.page_source
        self.screenshot("admin-revert")
        self.click_and_wait(confirm)

        self.wait_for(".messagelist .success")
        newest = self.driver.find_element(By.CSS_SELECTOR, ".trackable-entry")
        assert newest.get_attribute("data-action") == "revert"
        assert "to the version of" in newest.text
        issue.refresh_from_db()
        assert (issue.title, issue.state, issue.category) == (
            "Desk lamp flickers",
            "open",
            lighting,
        )
        self.screenshot("admin-history-reverted")

    def test_restore_a_soft_deleted_row_from_its_change_form(self) -> None:
        author = Author.objects.create(name="Ada Lovelace", email="ada@example.com")
        with acting_as(self.admin):
            author.delete()

        self.log_in()
        self.open(f"/admin/testapp/author/{author.pk}/change/")
        banner = self.wait_for("#trackable-deleted-banner")
        assert "was deleted on" in banner.text and "by admin" in banner.text
        self.screenshot("admin-soft-delete")

        self.click_and_wait(banner.find_element(By.CSS_SELECTOR, "input[type=submit]"))

        assert "Restored Ada Lovelace." in self.wait_for(".messagelist .success").text
        assert not self.driver.find_elements(By.ID, "trackable-deleted-banner")
        assert not Author.all_objects.get(pk=author.pk).is_deleted

    def test_the_activity_page_draws_the_bars(self) -> None:
        now = timezone.now()
        product_type = ContentType.objects.get_for_model(Issue)
        for days in range(30):
            when = now - datetime.timedelta(days=days, hours=1)
            UserVisit.objects.bulk_create(
                UserVisit(timestamp=when, method="GET", url=f"/page/{n}", user=self.admin)
                for n in range(20 + (days * 7) % 13 - (10 if days % 7 in (5, 6) else 0))
            )
            LoginAttempt.objects.bulk_create(
                LoginAttempt(timestamp=when, successful=n % 5 != 4, username="admin")
                for n in range(2 + days % 4 + (6 if days == 12 else 0))
            )
            AuditLog.objects.bulk_create(
                AuditLog(timestamp=when, action="update", content_type=product_type, object_id="1")
                for _n in range((days * 5) % 9)
            )

        self.log_in()
        self.open("/admin/django_trackable/auditlog/activity/")

        self.wait_for("svg.trackable-chart-svg")
        charts = self.driver.find_elements(By.CSS_SELECTOR, "figure.trackable-chart")
        assert [chart.get_attribute("id") for chart in charts] == [
            "trackable-chart-changes",
            "trackable-chart-visits",
            "trackable-chart-logins",
        ]
        visits = charts[1].find_elements(By.CSS_SELECTOR, "rect.trackable-bar")
        assert len(visits) == 30
        assert all(float(bar.get_attribute("height")) > 0 for bar in visits)
        failed = charts[2].find_elements(By.CSS_SELECTOR, "rect.trackable-bar-failed")
        assert failed
        self.screenshot("admin-activity")

        self.open("/admin/django_trackable/loginattempt/")
        self.wait_for("#trackable-chart-logins")
        self.screenshot("admin-login-attempts", max_height=720)
