"""The outbox, against a real SMTP relay on loopback: a notice is written with its message,
tried again while the relay refuses or is down, and delivered once — also with two workers
at it. What every delivered email says is checked for anything of the message."""

from datetime import timedelta

import pytest

from smweb import tasks
from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Message, Notice, Thread
from smweb.services import messaging, notifications, preferences
from smweb.services.refusals import NotAllowed
from tests.mailrelay import Relay
from tests.support import at_once, new_thread, user

TEAM_BLUE = {"nurse1": "pat@example.org", "doctor1": "sam@example.org",
             "clerk1": "robin@example.org"}
# What no notice may carry: subjects, message text, names, the facility, the team.
SECRETS = ("knee", "hurts", "Refill", "Alex", "Rivera", "Pat Lee", "Patel", "Robin", "Diaz",
           "Primary Care", "Team Blue", "Demo VA", "Cardiology")


def want_each(addresses: dict[str, str]) -> None:
    for username, address in addresses.items():
        preferences.save(user(username), signature_name="", signature_title="",
                         signature_by_default=False, notify="each", email=address,
                         shown_group_ids=None)


def notices() -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Notice).order_by(Notice.id)))


def assert_says_nothing_of_the_message(relay: Relay) -> None:
    for _to, content in relay.accepted:
        assert "New work in your Secure Messaging queue" in content
        assert "http://127.0.0.1:5000/sign-in" in content
        for secret in SECRETS:
            assert secret not in content


def test_the_notices_commit_with_the_message_or_not_at_all(ctx, relay):
    want_each(TEAM_BLUE)
    new_thread(subject="Question about my knee", body="It hurts when I walk.")
    assert len(notices()) == 3 and all(n.sent_at for n in notices())
    relay.accepted.clear()
    # A send refused by the rules leaves no notice behind (one transaction).
    thread = db.session.scalar(db.select(Thread).where(Thread.subject.like("Question%")))
    with pytest.raises(NotAllowed):
        messaging.reply(user("veteran1"), thread, "")
    db.session.rollback()
    assert len(notices()) == 3 and relay.accepted == []


def test_a_relay_that_refuses_then_accepts_gets_each_notice_once(ctx, relay, clock):
    want_each({"nurse1": TEAM_BLUE["nurse1"]})
    relay.refuse_next = 1
    new_thread()
    [notice] = notices()
    assert notice.sent_at is None and notice.attempts == 1
    assert notice.last_error == "SMTP 451" and notice.failing_since is not None
    assert relay.accepted == []
    tasks.run_now("deliver-notices")  # not due yet: nothing tried
    assert notices()[0].attempts == 1
    clock.advance(seconds=31)
    assert str(tasks.run_now("deliver-notices")).startswith("Sent 1 notice(s)")
    assert str(tasks.run_now("deliver-notices")).startswith("Sent 0 notice(s)")
    [notice] = notices()
    assert notice.sent_at is not None and notice.failing_since is None
    assert relay.recipients == ["pat@example.org"]
    assert_says_nothing_of_the_message(relay)


def test_a_relay_down_puts_every_notice_off_and_each_goes_once_it_is_back(
        app, ctx, relay, clock):
    want_each(TEAM_BLUE)
    relay.stop()  # the port is closed: connection refused
    new_thread(subject="Question about my knee", body="It hurts when I walk.")
    new_thread(subject="Refill please", body="The blue pills.")
    waiting = notices()
    assert len(waiting) == 6 and not any(n.sent_at for n in waiting)
    assert {n.last_error for n in waiting} == {"ConnectionRefusedError"}
    # All were put off together: the next try waits for the backoff.
    assert min(n.next_attempt_at for n in waiting) > utcnow()
    state = notifications.outbox_state()
    assert (state.waiting, state.failing, state.last_error) == (6, 6, "ConnectionRefusedError")
    clock.advance(seconds=31)
    tasks.run_now("deliver-notices")  # still down: the backoff doubles
    tried = [n for n in notices() if n.attempts]
    assert tried and all(n.next_attempt_at > utcnow() + timedelta(seconds=50) for n in tried)
    relay.start()
    clock.advance(minutes=5)
    tasks.run_now("deliver-notices")
    tasks.run_now("deliver-notices")
    assert relay.recipients == sorted(list(TEAM_BLUE.values()) * 2)
    assert len(set(relay.message_ids)) == 6
    assert all(n.sent_at for n in notices())
    assert notifications.outbox_state().waiting == 0
    assert_says_nothing_of_the_message(relay)


def test_an_address_refused_for_good_is_not_tried_again(ctx, relay, clock):
    want_each({"nurse1": "gone@example.org", "doctor1": TEAM_BLUE["doctor1"]})
    relay.refuse_addresses = {"gone@example.org"}
    new_thread()
    by_user = {n.user_id: n for n in notices()}
    gone = by_user[user("nurse1").id]
    assert gone.dropped == "refused" and gone.last_error.startswith("SMTP 550")
    assert by_user[user("doctor1").id].sent_at is not None
    clock.advance(hours=2)
    tasks.run_now("deliver-notices")
    assert relay.recipients == ["sam@example.org"]
    assert notifications.outbox_state().waiting == 0


def test_a_user_who_takes_their_address_away_gets_no_email(ctx, relay):
    want_each({"nurse1": TEAM_BLUE["nurse1"]})
    relay.stop()
    new_thread()
    relay.start()
    prefs = preferences.preferences_of(user("nurse1"))
    prefs.email = ""
    db.session.commit()
    db.session.execute(db.update(Notice).values(next_attempt_at=utcnow()))
    db.session.commit()
    tasks.run_now("deliver-notices")
    assert [n.dropped for n in notices()] == ["no address"]
    assert relay.accepted == []


def test_two_workers_at_once_deliver_each_notice_once(app, ctx, relay):
    want_each(TEAM_BLUE)
    relay.stop()
    for n in range(4):
        new_thread(subject=f"Question {n}", body="Words.")
    assert len(notices()) == 12
    db.session.execute(db.update(Notice).values(next_attempt_at=utcnow()))
    db.session.commit()
    relay.delay = 0.05
    relay.start()
    at_once(app, notifications.deliver_due)
    assert len(relay.accepted) == 12 and len(set(relay.message_ids)) == 12
    assert all(n.sent_at for n in notices())


def test_the_patients_notice_names_no_one_either(ctx, relay):
    preferences.save(user("veteran1"), signature_name="", signature_title="",
                     signature_by_default=False, notify="each", email="alex@example.org",
                     shown_group_ids=None)
    thread = db.session.scalar(db.select(Thread).where(
        Thread.subject == "Refill for blood pressure pills"))
    messaging.reply(user("nurse1"), thread, "Your lisinopril refill is ready.")
    [(to, content)] = relay.accepted
    assert to == ["alex@example.org"]
    assert "You have a new secure message in Secure Messaging." in content
    for secret in (*SECRETS, "lisinopril", "blood pressure", "Nurse"):
        assert secret not in content
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) > 0


def test_a_notice_that_cannot_even_be_written_is_recorded_not_retried_in_a_loop(ctx, relay):
    want_each({"nurse1": TEAM_BLUE["nurse1"], "doctor1": TEAM_BLUE["doctor1"]})
    prefs = preferences.preferences_of(user("nurse1"))
    prefs.email = "pat@[1.2.3"  # an address the email library can't put in a To: header
    db.session.commit()
    new_thread()
    by_user = {n.user_id: n for n in notices()}
    broken = by_user[user("nurse1").id]
    assert broken.sent_at is None and broken.claimed_until is None
    assert broken.last_error and "pat@" not in broken.last_error
    assert broken.next_attempt_at > utcnow()  # put off, not first in line again
    assert by_user[user("doctor1").id].sent_at is not None  # the others still go
    assert relay.recipients == ["sam@example.org"]


def test_the_backoff_stops_at_an_hour_however_long_it_fails(ctx):
    assert notifications.retry_delay(1) == timedelta(seconds=30)
    assert notifications.retry_delay(3) == timedelta(seconds=120)
    assert notifications.retry_delay(200) == timedelta(hours=1)  # no overflow


def test_prune_forgets_old_notices_only(app, ctx, relay):
    want_each({"nurse1": TEAM_BLUE["nurse1"]})
    new_thread()
    new_thread(subject="Second question", body="Words.")
    old, recent = notices()
    old.sent_at = utcnow() - timedelta(days=31)
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["smweb", "prune"]).output
    assert "1 old email notice(s)" in output
    assert [n.id for n in notices()] == [recent.id]
