"""The privacy tests' world: two people's data in every store.

:func:`populate` gives Alice (the person erased or exported) and Bob (who must
stay intact) history entries, stamps, audit rows, visits, login attempts and
devices through the real write paths, and records: of their accounts, of
Alice's profile, and of tickets naming them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import time_machine
from django.contrib.auth import authenticate, get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory

from django_trackable import acting_as
from django_trackable.models import AuditLog, LoginAttempt
from tests.privacyapp.models import AccountRecord, Address, Member, RecordedUser, Ticket
from tests.testapp.models import Author, Gadget, Note, Post, Product, Restaurant

T0 = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
VISIT_MIDDLEWARE = "django_trackable.middleware.VisitMiddleware"


@dataclass
class World:
    alice: Any
    bob: Any
    #: What must not be found anywhere after Alice is erased.
    alice_strings: tuple[str, ...]
    alice_ips: tuple[str, ...]
    bob_strings: tuple[str, ...]
    products: list[Product]
    member: Member
    gadget: Gadget
    #: Reported by Alice, assigned to Bob; reported by Bob, assigned to Alice then Bob.
    tickets: list[Ticket]


ALICE_IPS = ("198.51.100.23", "2001:db8:a11c:5678::17")
BOB_IP = "192.0.2.44"
ATTACKER_IP = "203.0.113.99"


def populate(settings: Any) -> World:
    """Alice and Bob, each with data in every store django_trackable has."""
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]
    users = get_user_model()
    alice = users.objects.create_user(
        "alice", email="alice.person@example.com", password="pw-alice"
    )
    bob = users.objects.create_user("bob", email="bob.other@example.org", password="pw-bob")
    rf = RequestFactory()
    moment = iter(T0 + datetime.timedelta(minutes=n) for n in range(1000))

    def at() -> Any:
        return time_machine.travel(next(moment), tick=False)

    # Alice's own rows: her profile (made by herself, corrected by Bob) and addresses.
    with at(), acting_as(alice, ip=ALICE_IPS[0], request_id="r-alice-1"):
        member = Member.objects.create(
            user=alice,
            email="alice.old@example.net",
            full_name="Alice Liddell",
            phone="+44 20 7946 0017",
            preferences={"newsletter": True},
        )
        Address.objects.create(owner=alice, street="1 Rabbit Hole")
    with at(), acting_as(bob, ip=BOB_IP, reason="support ticket"):
        member.email = "alice.person@example.com"
        member.save()
        Address.objects.create(owner=alice, street="2 Looking Glass Lane")

    # Changes to other rows, by both, through every write path.
    with at(), acting_as(bob, ip=BOB_IP):
        products = [Product.objects.create(name=f"product {n}", price=n) for n in range(3)]
        gadget = Gadget.objects.create(name="kettle")
        restaurant = Restaurant.objects.create(name="Tea Party")
        author = Author.objects.create(name="Bob the writer", email="writer@example.org")
        post = Post.objects.create(author=author, title="Bob's post")
    with at(), acting_as(alice, ip=ALICE_IPS[1], request_id="r-alice-2", api_token="sekrit"):
        products[0].price = 10
        products[0].save()
        Product.objects.filter(pk=products[1].pk).update(quantity=5)
        gadget.name = "teapot"
        gadget.save()
        restaurant.serves_pizza = True
        restaurant.name = "Mad Tea Party"
        restaurant.save()
        Note.objects.create(text="a note")
        post.delete()  # soft delete: deleted_by
    with at(), acting_as(bob, ip=BOB_IP):
        products[0].name = "product zero"
        products[0].save()
    products = list(Product.objects.order_by("pk"))

    # The audit trail, as the central log will write it.
    member_type = ContentType.objects.get_for_model(Member)
    with at():
        AuditLog.objects.create(
            actor=alice,
            actor_repr="alice",
            action="update",
            content_type=ContentType.objects.get_for_model(Product),
            object_id=str(products[0].pk),
            target_repr="product 0",
            changes={"price": ["0.00", "10.00"]},
            extra={"ip": ALICE_IPS[1], "request_id": "r-alice-2"},
        )
        AuditLog.objects.create(
            actor=bob,
            actor_repr="bob",
            action="update",
            content_type=member_type,
            object_id=str(member.pk),
            target_repr="Alice Liddell",
            changes={"email": ["alice.old@example.net", "alice.person@example.com"]},
            extra={"ip": BOB_IP},
        )
        AuditLog.objects.create(
            actor=bob,
            actor_repr="bob",
            action="update",
            content_type=ContentType.objects.get_for_model(get_user_model()),
            object_id=str(alice.pk),
            target_repr="alice",
            changes={"email": ["", "alice.person@example.com"], "is_active": [False, True]},
        )
        AuditLog.objects.create(
            actor=bob,
            actor_repr="bob",
            action="update",
            content_type=ContentType.objects.get_for_model(Product),
            object_id=str(products[0].pk),
            target_repr="product zero",
            changes={"name": ["product 0", "product zero"]},
            extra={"ip": BOB_IP},
        )

    # Records: of both accounts, and of tickets naming both (the profile's are above).
    with at():
        AccountRecord.record(list(RecordedUser.objects.order_by("pk")))
        tickets = [
            Ticket.objects.create(title="kettle leaks", reporter=alice, assignee=bob),
            Ticket.objects.create(title="teapot cracked", reporter=bob, assignee=alice),
        ]
    with at():
        tickets[1].assignee = bob
        tickets[1].save()

    # Visits through VisitMiddleware, logins through the login signals.
    alice_client, bob_client = Client(), Client()
    alice_client.force_login(alice)
    bob_client.force_login(bob)
    with at():
        alice_client.get(
            f"/products/{products[2].pk}/?token=abc&q=alice.person%40example.com",
            REMOTE_ADDR=ALICE_IPS[0],
            HTTP_USER_AGENT=FIREFOX,
            HTTP_REFERER="https://search.example/?q=alice+liddell",
        )
        alice_client.get(f"/products/{products[2].pk}/", REMOTE_ADDR=ALICE_IPS[1])
        bob_client.get(f"/products/{products[2].pk}/", REMOTE_ADDR=BOB_IP)
    with at():
        LoginAttempt.objects.record(
            rf.post("/", REMOTE_ADDR=ALICE_IPS[0], HTTP_USER_AGENT=FIREFOX),
            successful=True,
            user=alice,
        )
        LoginAttempt.objects.record(
            rf.post("/", REMOTE_ADDR=ALICE_IPS[1], HTTP_USER_AGENT=SAFARI),
            successful=True,
            user=alice,
        )
        LoginAttempt.objects.record(
            rf.post("/", REMOTE_ADDR=BOB_IP, HTTP_USER_AGENT=FIREFOX), successful=True, user=bob
        )
        for typed, ip in (
            ("ALICE", ALICE_IPS[0]),
            ("Alice.Person@Example.com", ALICE_IPS[1]),
            ("alice", ATTACKER_IP),
            ("bob", BOB_IP),
            ("nobody", ATTACKER_IP),
        ):
            assert authenticate(rf.post("/", REMOTE_ADDR=ip), username=typed, password="x") is None
    return World(
        alice=alice,
        bob=bob,
        alice_strings=("alice", "alice.person@example.com", "alice.old@example.net"),
        alice_ips=ALICE_IPS,
        bob_strings=("bob", "bob.other@example.org", BOB_IP),
        products=products,
        member=member,
        gadget=gadget,
        tickets=tickets,
    )
