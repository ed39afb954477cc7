"""The patient-education library: items staff can put into a message. Only pages on the
site's library domains (SMWEB_EDUCATION_DOMAINS) are accepted, and only they become links."""

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import EducationItem


def is_library_url(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host in current_app.config["EDUCATION_DOMAINS"]


def catalogue() -> list[EducationItem]:
    return list(db.session.scalars(select(EducationItem).order_by(EducationItem.title)))


def items_by_ids(ids: list[int]) -> list[EducationItem]:
    if not ids:
        return []
    return list(db.session.scalars(select(EducationItem).where(EducationItem.id.in_(ids))))


def add_item(title: str, summary: str, url: str) -> EducationItem:
    if not is_library_url(url):
        raise ValueError("The address must be an https page on one of the library's sites.")
    item = EducationItem(title=title.strip(), summary=summary.strip(), url=url.strip())
    db.session.add(item)
    db.session.commit()
    return item
