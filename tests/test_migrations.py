"""A site upgrades without losing data: a database made by the first migration, with rows in
it, is upgraded to the newest schema and keeps every row."""

import flask_migrate
from sqlalchemy import text

from smweb import create_app
from smweb.config import TestConfig
from smweb.extensions import db


def test_upgrade_from_the_first_schema_keeps_the_data(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}",
                     ATTACHMENTS_DIR=str(tmp_path / "files"))
    with app.app_context():
        flask_migrate.upgrade(revision="0001_initial")
        rows = [
            "INSERT INTO facilities (id, name, timezone, phone) VALUES (1, 'VAMC', "
            "'America/New_York', '555-0100')",
            "INSERT INTO triage_groups (id, facility_id, name) VALUES (1, 1, 'Team')",
            "INSERT INTO users (id, username, password_hash, display_name, role, account_level,"
            " disabled, created_at) VALUES (1, 'pat', 'x', 'Pat', 'patient', 'premium', 0,"
            " '2026-01-05 10:00:00'), (2, 'nurse', 'x', 'Nurse', 'staff', 'basic', 0,"
            " '2026-01-05 10:00:00')",
            "INSERT INTO threads (id, patient_id, group_id, category, subject, created_at,"
            " last_message_at, last_team_message_at, last_patient_message_at, unread_for_patient,"
            " unread_for_team) VALUES (1, 1, 1, 'General', 'Answered', '2026-01-05 10:00:00',"
            " '2026-01-05 12:00:00', '2026-01-05 12:00:00', '2026-01-05 10:00:00', 1, 0),"
            " (2, 1, 1, 'General', 'Waiting', '2026-01-06 10:00:00', '2026-01-06 10:00:00',"
            " NULL, '2026-01-06 10:00:00', 0, 1)",
            "INSERT INTO messages (id, thread_id, author_id, from_patient, body, sent_at) VALUES"
            " (1, 1, 1, 1, 'question', '2026-01-05 10:00:00'),"
            " (2, 1, 2, 0, 'answer', '2026-01-05 12:00:00'),"
            " (3, 2, 1, 1, 'another', '2026-01-06 10:00:00')",
        ]
        with db.engine.begin() as connection:
            for row in rows:
                connection.execute(text(row))
        # a thread completed after the patient's thank-you, who wrote again later
        flask_migrate.upgrade(revision="0025_staff_notes")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO threads (id, patient_id, group_id, category, subject, created_at,"
                " last_message_at, unread_for_patient, unread_for_team, status) VALUES (3, 1,"
                " 1, 'General', 'Thanks', '2026-01-07 15:00:00', '2026-01-20 16:00:00', 1, 0,"
                " 'waiting')"))
            connection.execute(text(
                "INSERT INTO messages (id, thread_id, author_id, from_patient, body, sent_at)"
                " VALUES (4, 3, 1, 1, 'thanks', '2026-01-07 15:00:00'),"
                " (5, 3, 1, 1, 'again', '2026-01-20 15:00:00'),"
                " (6, 3, 2, 0, 'answer', '2026-01-20 16:00:00')"))
            connection.execute(text(
                "INSERT INTO thread_events (thread_id, actor_id, kind, created_at) VALUES"
                " (3, 2, 'completed', '2026-01-07 16:00:00')"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 6
            statuses = dict(connection.execute(text("SELECT subject, status FROM threads")).all())
            assert statuses == {"Answered": "waiting", "Waiting": "new", "Thanks": "waiting"}
            # the reports' rows, replayed on the reply clock: the first came at 5:00 in New
            # York on a Monday and was answered at 7:00, before opening (no business time)
            replies = connection.execute(text(
                "SELECT message_id, weekday, due_at, replied_by_id, business_seconds"
                " FROM reply_times ORDER BY message_id")).all()
            assert [tuple(r) for r in replies] == [
                (1, 0, "2026-01-07 22:00:00.000000", 2, 0),
                (3, 1, "2026-01-08 22:00:00.000000", None, None),
                (4, 2, "2026-01-12 15:00:00.000000", None, None),  # closed, unanswered
                (5, 1, "2026-01-23 15:00:00.000000", 2, 3600)]  # its own reply, 1 h
            closed = connection.execute(text(
                "SELECT closed_at FROM reply_times WHERE message_id = 4")).scalar()
            assert closed == "2026-01-07 16:00:00.000000"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        db.engine.dispose()
