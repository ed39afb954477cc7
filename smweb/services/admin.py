"""Site administration: accounts, facilities, care teams, and who belongs to which."""

from datetime import time
from zoneinfo import available_timezones

from sqlalchemy import delete, func, insert, select

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..models import Facility, Role, TriageGroup, User, group_members, patient_groups
from ..models.people import MEMBER_ROLES, AccountLevel
from . import accounts, audit, people, sessions, twofactor
from .paging import Page
from .refusals import NotAllowed


class AdminError(NotAllowed):
    """An administrative change the rules don't allow; the text says why."""


def _check_password(password: str, username: str, display_name: str) -> None:
    try:
        accounts.check_new_password(password, username=username, display_name=display_name)
    except accounts.PasswordError as refusal:
        raise AdminError(str(refusal)) from None


def create_user(actor: User | None, username: str, display_name: str, role: str,
                account_level: str, password: str) -> User:
    """A new account, made by `actor` (an admin; None from the command line)."""
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise AdminError("A username has letters, digits, dots, dashes or underscores.")
    if accounts.find_user(username) is not None:
        raise AdminError(f"There is already an account named {username}.")
    if role not in {r.value for r in Role}:
        raise AdminError("Choose a role from the list.")
    if account_level not in {a.value for a in AccountLevel}:
        raise AdminError("Choose an account level from the list.")
    if not display_name.strip():
        raise AdminError("Enter the person's name.")
    _check_password(password, username, display_name)
    user = accounts.create_user(username, password, display_name.strip(), role=role,
                                account_level=account_level)
    db.session.flush()  # the account's id, for its audit row
    audit.add("account_create", actor, target_user=user)
    db.session.commit()
    return user


def _admins_left(excluding: User) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == Role.ADMIN, User.disabled.is_(False), User.id != excluding.id)) or 0


def update_user(actor: User, user: User, *, role: str, account_level: str, disabled: bool,
                care_teams: list[int] | None = None,
                memberships: dict[int, str] | None = None) -> None:
    """Change a user's role, account level, whether the account may sign in and (when given)
    a patient's care teams or a staff member's memberships: all of it or nothing, with an
    audit row for each kind of change, in one commit. Making a patient's basic account
    premium records the admin as the one who verified the identity (making it basic again
    clears that). The last working admin account can't be demoted or disabled; a disabled
    account's sessions end."""
    if role not in {r.value for r in Role} or account_level not in {a.value for a in AccountLevel}:
        raise AdminError("Choose a role and account level from the lists.")
    if user.is_admin and (role != Role.ADMIN or disabled) and _admins_left(user) == 0:
        raise AdminError("This is the last admin account: make another admin first.")
    if memberships is not None and any(r not in MEMBER_ROLES for r in memberships.values()):
        raise AdminError("Choose a role in each care team from the list.")
    verified_now = role == Role.PATIENT and user.account_level == AccountLevel.BASIC and \
        account_level == AccountLevel.PREMIUM
    if (user.role, user.account_level, user.disabled) != (role, account_level, disabled):
        user.role, user.account_level, user.disabled = role, account_level, disabled
        audit.add("account_change", actor, target_user=user)
    if verified_now:  # an admin who makes a patient premium vouches for the identity
        user.identity_verified_at, user.identity_verified_by = utcnow(), actor
    elif account_level == AccountLevel.BASIC:  # a staff desk may verify it again
        user.identity_verified_at = user.identity_verified_by = None
    teams_changed = care_teams is not None and _set_care_teams(user, care_teams)
    if memberships is not None and _set_memberships(user, memberships) or teams_changed:
        audit.add("membership_change", actor, target_user=user)
    if verified_now:  # after the care teams: its row names the patient's facility
        audit.add("identity_verify", actor, target_user=user)
    if disabled:
        sessions.end_all(user, "disabled")
    db.session.commit()


def _set_care_teams(user: User, group_ids: list[int]) -> bool:
    """A patient's care teams: the ones they may write to. True if they changed."""
    before = {g.id for g in user.care_groups}
    user.care_groups = list(db.session.scalars(
        select(TriageGroup).where(TriageGroup.id.in_(group_ids))))
    return before != {g.id for g in user.care_groups}


def _set_memberships(user: User, roles: dict[int, str]) -> bool:
    """A staff member's care teams, each with a role (provider, nurse, clerk, group
    administrator). True if they changed."""
    before = memberships_of(user)
    known = set(db.session.scalars(select(TriageGroup.id).where(
        TriageGroup.id.in_(list(roles)))))
    db.session.execute(delete(group_members).where(group_members.c.user_id == user.id))
    for group_id, role in sorted(roles.items()):
        if group_id in known:
            db.session.execute(insert(group_members).values(
                group_id=group_id, user_id=user.id, role=role))
    db.session.expire(user, ["staff_groups"])
    return before != memberships_of(user)


def reset_password(actor: User, user: User, password: str) -> None:
    """A new password the person must change at their next sign-in; their sessions end."""
    _check_password(password, user.username, user.display_name)
    accounts.set_password(user, password, must_change=True)
    sessions.end_all(user, "admin")
    audit.add("password_reset", actor, target_user=user)
    db.session.commit()


def end_sessions(actor: User, user: User) -> int:
    """Sign the person out on every device (a lost phone, a shared login, a leaver); returns
    how many sessions ended."""
    ended = sessions.end_all(user, "admin")
    audit.add("sessions_end", actor, target_user=user)
    db.session.commit()
    return ended


def reset_two_step(actor: User, user: User) -> None:
    """Turn off the person's second factor (a lost phone); staff set it up again at their
    next sign-in. Their sessions end."""
    twofactor.turn_off(user)
    sessions.end_all(user, "admin")
    audit.add("two_step_off", actor, target_user=user)
    db.session.commit()


def _check_facility(timezone: str, phone: str, opens_at: time, closes_at: time) -> None:
    if timezone not in available_timezones():
        raise AdminError(f"{timezone} is not a time zone; use a name like America/Chicago.")
    if not phone.strip():
        raise AdminError("Enter the facility's phone number.")
    if closes_at <= opens_at:
        raise AdminError("Business hours must end after they start.")


def create_facility(name: str, timezone: str, phone: str, opens_at: time = time(8, 0),
                    closes_at: time = time(17, 0)) -> Facility:
    name = name.strip()
    if not name:
        raise AdminError("Enter the facility's name.")
    if db.session.scalar(select(Facility.id).where(Facility.name == name)):
        raise AdminError(f"There is already a facility named {name}.")
    _check_facility(timezone, phone, opens_at, closes_at)
    facility = Facility(name=name, timezone=timezone, phone=phone.strip(), opens_at=opens_at,
                        closes_at=closes_at)
    db.session.add(facility)
    db.session.commit()
    return facility


def update_facility(facility: Facility, timezone: str, phone: str, opens_at: time,
                    closes_at: time) -> None:
    """Change a facility's time zone, phone and business hours (the reply clock's hours)."""
    _check_facility(timezone, phone, opens_at, closes_at)
    facility.timezone, facility.phone = timezone, phone.strip()
    facility.opens_at, facility.closes_at = opens_at, closes_at
    db.session.commit()


def create_group(facility: Facility, name: str) -> TriageGroup:
    name = name.strip()
    if not name:
        raise AdminError("Enter the care team's name.")
    if db.session.scalar(select(TriageGroup.id).where(
            TriageGroup.facility_id == facility.id, TriageGroup.name == name)):
        raise AdminError(f"{facility.name} already has a care team named {name}.")
    group = TriageGroup(facility=facility, name=name)
    db.session.add(group)
    db.session.commit()
    return group


def memberships_of(user: User) -> dict[int, str]:
    rows = db.session.execute(select(group_members.c.group_id, group_members.c.role)
                              .where(group_members.c.user_id == user.id))
    return {group_id: role for group_id, role in rows}


# A row of the administration page's account list (named columns, not ORM objects).
ACCOUNT_ROW = (User.id, User.username, User.display_name, User.role, User.account_level,
               User.disabled)

# A to Z by username, which is unique: the order of its own unique index.
ACCOUNTS = people.PeopleList(select(*ACCOUNT_ROW), order=("username",))


def accounts_page(search: people.NameSearch, number: int, after: str | None = None,
                  before: str | None = None) -> Page:
    """One page of every account (patients, staff, admins), A to Z by username, those whose
    name or username holds the words typed."""
    return ACCOUNTS.page(search, {}, number, after, before)


def _members(link) -> object:
    return (select(func.count()).select_from(link)
            .where(link.c.group_id == TriageGroup.id).scalar_subquery())


# A care team as the administration page lists it: how many staff and patients it has are
# counted by the database (each a range of the link table's key), not by loading them all.
_TEAMS = (select(TriageGroup.id, TriageGroup.facility_id, TriageGroup.name,
                 _members(group_members).label("staff_count"),
                 _members(patient_groups).label("patient_count"))
          .order_by(TriageGroup.name, TriageGroup.id))


def facilities_overview() -> list[tuple[Facility, list]]:
    """Every facility, by name, with its care teams and their sizes: two statements,
    whatever the number of teams or people."""
    teams: dict[int, list] = {}
    for team in read_rows(_TEAMS, {}):
        teams.setdefault(team.facility_id, []).append(team)
    facilities = db.session.scalars(select(Facility).order_by(Facility.name))
    return [(facility, teams.get(facility.id, [])) for facility in facilities]
