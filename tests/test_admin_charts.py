"""Activity charts: counted per local day in one query, drawn as SVG, on the Activity page."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.contrib import admin
from django.urls import path
from django.utils import timezone

from django_trackable.admin import AuditLogAdmin
from django_trackable.admin.charts import (
    Series,
    changes_chart,
    counts_per_day,
    logins_chart,
    period_from,
    visits_chart,
)
from django_trackable.models import AuditLog, LoginAttempt, UserVisit

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.adminapp.urls")]

NOW = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.timezone.utc)
ACTIVITY = "/admin/django_trackable/auditlog/activity/"


def days_ago(days, hour=12):
    return (NOW - datetime.timedelta(days=days)).replace(hour=hour)


def visit(when, **values):
    return UserVisit.objects.create(timestamp=when, method="GET", url="/", **values)


def attempt(when, successful):
    return LoginAttempt.objects.create(timestamp=when, successful=successful, username="u")


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def test_a_chart_is_one_query(now, django_assert_num_queries):
    for days in (0, 0, 3, 10):
        visit(days_ago(days))

    with django_assert_num_queries(1):
        chart = visits_chart(30)

    assert [day.total for day in chart.days][-11:] == [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2]


def test_the_days_run_oldest_first_up_to_today_and_empty_days_are_zero(now):
    visit(days_ago(1))

    chart = visits_chart(30)

    assert len(chart.days) == 30
    assert chart.days[0].day == datetime.date(2026, 10, 25)
    assert chart.days[-1].day == datetime.date(2026, 11, 23)
    assert [day.total for day in chart.days] == [0] * 28 + [1, 0]


def test_rows_before_the_period_are_left_out(now):
    visit(days_ago(30))
    visit(days_ago(29))

    assert visits_chart(30).total == 1
    assert visits_chart(90).total == 2


def test_days_are_local_days(now, settings):
    # 23:30 UTC on the 21st is the 22nd in Paris.
    visit(datetime.datetime(2026, 11, 21, 23, 30, tzinfo=datetime.timezone.utc))

    with timezone.override("Europe/Paris"):
        paris = {day.day: day.total for day in visits_chart(30).days}
    utc = {day.day: day.total for day in visits_chart(30).days}

    assert (paris[datetime.date(2026, 11, 22)], paris[datetime.date(2026, 11, 21)]) == (1, 0)
    assert (utc[datetime.date(2026, 11, 21)], utc[datetime.date(2026, 11, 22)]) == (1, 0)


def test_days_work_without_time_zone_support(settings):
    settings.USE_TZ = False
    with time_machine.travel(datetime.datetime(2026, 11, 23, 15, 0), tick=False):
        UserVisit.objects.create(timestamp=datetime.datetime(2026, 11, 22, 10), method="GET")

        chart = visits_chart(30)

    assert chart.days[-2].total == 1


def test_login_attempts_count_successes_and_failures_in_one_query(now, django_assert_num_queries):
    attempt(days_ago(0), True)
    attempt(days_ago(0), False)
    attempt(days_ago(0), False)
    attempt(days_ago(2), True)

    with django_assert_num_queries(1):
        chart = logins_chart(30)

    assert chart.days[-1].counts == (1, 2)
    assert chart.days[-3].counts == (1, 0)
    assert [(series.key, total) for series, total in chart.totals] == [
        ("successful", 2),
        ("failed", 2),
    ]


def test_the_changes_chart_counts_audit_log_rows(now, settings):
    settings.TRACKABLE = {"AUDIT_LOG": True}
    AuditLog.objects.create(action="update", timestamp=days_ago(1))

    chart = changes_chart(30)

    assert chart.days[-2].total == 1
    assert chart.note == ""


def test_the_changes_chart_says_when_the_audit_log_is_off(now):
    assert "The audit log is off" in changes_chart(30).note


def test_a_series_condition_chooses_the_rows_it_counts(now):
    visit(days_ago(0), status_code=200)
    visit(days_ago(0), status_code=500)

    from django.db.models import Q

    (today,) = counts_per_day(
        UserVisit.objects.all(),
        "timestamp",
        1,
        [Series("ok", "OK", "#000", Q(status_code__lt=400)), Series("all", "All", "#000")],
    )

    assert today.counts == (1, 2)


@pytest.mark.parametrize(
    ("value", "days"), [("90", 90), ("30", 30), (None, 30), ("7", 30), ("x", 30), ("-90", 30)]
)
def test_only_the_offered_periods_are_accepted(value, days):
    assert period_from(value) == days


def test_the_svg_has_a_bar_per_count_and_a_table_of_the_same_numbers(now):
    attempt(days_ago(0), True)
    attempt(days_ago(0), False)
    attempt(days_ago(5), True)

    html = logins_chart(30).render()

    assert html.count('class="trackable-bar trackable-bar-successful"') == 2
    assert html.count('class="trackable-bar trackable-bar-failed"') == 1
    assert html.count('class="trackable-bar-empty"') == 28
    assert 'role="img"' in html and "Login attempts over the last 30 days" in html
    table = html[html.index("<table") :]
    assert table.count("<tr>") == 31  # the header and one row per day
    assert "<td>0</td>" in table
    assert "<script" not in html and "http" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_bars_are_scaled_to_the_busiest_day(now):
    for _ in range(4):
        visit(days_ago(0))
    for _ in range(2):
        visit(days_ago(1))

    html = visits_chart(30).render()

    bars = re.findall(r'class="trackable-bar trackable-bar-visits"[^>]*height="([\d.]+)"', html)
    heights = [float(height) for height in bars]
    assert heights[1] == pytest.approx(heights[0] * 2)


def test_the_svg_numbers_are_not_localised(now, settings):
    settings.LANGUAGE_CODE = "de"
    settings.USE_THOUSAND_SEPARATOR = True
    visit(days_ago(0))

    html = visits_chart(30).render()

    svg = html[html.index("<svg") : html.index("</svg>")]
    assert not re.search(r'(x|y|width|height)="\d+,\d', svg)


def test_the_visit_and_login_lists_have_their_charts(admin_client, now):
    visit(days_ago(0))
    attempt(days_ago(0), False)

    visits = admin_client.get("/admin/django_trackable/uservisit/")
    logins = admin_client.get("/admin/django_trackable/loginattempt/", {"_days": "90"})

    assert visits.context["trackable_chart"].key == "visits"
    assert logins.context["trackable_chart"].key == "logins"
    assert len(logins.context["trackable_chart"].days) == 90
    assert b'<strong aria-current="true">Last 90 days</strong>' in logins.content
    assert b"_days=30" in logins.content


def test_the_chart_counts_the_rows_the_filtered_list_shows(admin_client, now):
    visit(days_ago(0), browser="Firefox")
    visit(days_ago(0), browser="Chrome")
    visit(days_ago(1), browser="Chrome")

    everyone = admin_client.get("/admin/django_trackable/uservisit/")
    chrome = admin_client.get("/admin/django_trackable/uservisit/", {"browser": "Chrome"})

    def total(response):
        return sum(day.counts[0] for day in response.context["trackable_chart"].days)

    assert (total(everyone), total(chrome)) == (3, 2)
    assert b"browser=Chrome" in chrome.content  # the period links keep the filter


def test_the_device_list_has_no_chart(admin_client):
    response = admin_client.get("/admin/django_trackable/userdevice/")

    assert "trackable_chart" not in response.context


def test_a_list_action_post_computes_no_chart(admin_client, now):
    row = visit(days_ago(0))

    response = admin_client.post(
        "/admin/django_trackable/uservisit/",
        {"action": "delete_selected", "_selected_action": [row.pk]},
    )

    assert response.status_code == 200
    assert "trackable_chart" not in response.context


# -- the Activity page ----------------------------------------------------------------


def test_the_activity_page_shows_the_three_charts(admin_client, now, django_assert_num_queries):
    visit(days_ago(0))
    attempt(days_ago(1), True)
    AuditLog.objects.create(action="update", timestamp=days_ago(2))

    # session, user, then one query per chart
    with django_assert_num_queries(5):
        response = admin_client.get(ACTIVITY)

    assert response.status_code == 200
    assert [item["chart"].key for item in response.context["charts"]] == [
        "changes",
        "visits",
        "logins",
    ]
    html = response.content.decode()
    assert html.count('<svg class="trackable-chart-svg"') == 3
    assert 'href="/admin/django_trackable/uservisit/"' in html


def test_the_activity_page_shows_only_the_charts_the_viewer_may_see(client, staff_with, now):
    client.force_login(staff_with("view_uservisit"))

    response = client.get(ACTIVITY, {"_days": "90"})

    assert [item["chart"].key for item in response.context["charts"]] == ["visits"]
    assert len(response.context["charts"][0]["chart"].days) == 90


def test_the_activity_page_needs_a_view_permission(client, staff_with):
    client.force_login(staff_with("view_product"))

    assert client.get(ACTIVITY).status_code == 403


def test_the_activity_page_needs_staff(client, alice):
    client.force_login(alice)

    assert client.get(ACTIVITY).status_code == 302  # to the admin's login


def test_the_app_page_links_the_activity_page(admin_client):
    response = admin_client.get("/admin/django_trackable/")

    assert f'href="{ACTIVITY}"'.encode() in response.content


bare = admin.AdminSite(name="bare")
bare.register(AuditLog, AuditLogAdmin)
urlpatterns = [path("bare/", bare.urls)]


@pytest.mark.urls(__name__)
def test_the_activity_page_works_on_a_site_without_the_other_admins(admin_client, now):
    response = admin_client.get("/bare/django_trackable/auditlog/activity/")

    assert response.status_code == 200
    assert [item["chart"].key for item in response.context["charts"]] == [
        "changes",
        "visits",
        "logins",
    ]
    assert [item["url"] for item in response.context["charts"]][1:] == [None, None]
