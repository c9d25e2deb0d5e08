"""The example site's recorded offer: migrations, seed data and its chart."""

from __future__ import annotations


def test_the_example_offer_records_its_price_and_its_suppliers_rename(manage):
    manage("migrate", "--noinput")
    assert "seeded with 31 records" in manage("seed_prices")
    assert "already seeded" in manage("seed_prices")
    shown = manage(
        "shell",
        "-c",
        "from pricing.models import Offer; "
        "from django_trackable.admin.records import record_chart; "
        "offer = Offer.objects.get(); "
        "print(offer.records.count(), offer.records.latest().supplier_name, "
        "record_chart(offer, 'price_with_tax').count('<circle'))",
    )
    assert shown.strip().splitlines()[-1] == "31 Globex Corporation 31"
