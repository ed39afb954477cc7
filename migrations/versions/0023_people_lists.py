"""Indexes for the lists of people: the coordinator's patients A to Z, a page at a time

Revision ID: 0023_people_lists
Revises: 0022_queue_unread_by_patient
Create Date: 2026-12-03 14:00:00

The Patients page (services/blocking.py `patients_page`, read by services/people.py) walks
the patients in (display name, id) order from where the page starts and stops once a page
is full, so page 100 costs what page 1 does:

- `ix_users_role_name` (role, display_name, id) holds that order for the patients alone
  (staff and admins share the table). The id is there for PostgreSQL, whose index would
  otherwise end at the name; SQLite's indexes end with the rowid (the id) anyway.
- `ix_patient_groups_patient` (patient_id, group_id): for each patient walked, whether they
  belong to a care team in the coordinator's reach. The table's key leads with the team,
  so without it that question reads the key once per team of the facility (or the whole
  table). A patient's care teams, asked on many pages, are read through it too.

The admin's account list is A to Z by username: the unique index on it already holds that
order. A search for part of a name is a LIKE '%...%' that no B-tree index can seek: it is
checked on the rows walked in that same order, until a page is full.
"""
from alembic import op


revision = '0023_people_lists'
down_revision = '0022_queue_unread_by_patient'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch copy of the table), as migration 0013.
    op.create_index('ix_users_role_name', 'users', ['role', 'display_name', 'id'],
                    unique=False)
    op.create_index('ix_patient_groups_patient', 'patient_groups', ['patient_id', 'group_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_patient_groups_patient', table_name='patient_groups')
    op.drop_index('ix_users_role_name', table_name='users')
