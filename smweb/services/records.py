"""Saving messages to the patient's medical record, and exporting an entry as a FHIR
`Communication` resource (R4; validated with fhir.resources' R4B model, whose Communication
is the same as R4's)."""

import json

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import Message, RecordEntry, Thread, ThreadEvent, User
from . import access, audit, references
from .refusals import NotAllowed, NotFound


def save_to_record(actor: User, thread: Thread, message: Message | None = None) -> RecordEntry:
    """Save one message, or the whole thread, to the medical record as sent. The entry says
    who saved it and when, and is never changed afterwards."""
    if not access.can_see_thread(actor, thread):
        raise NotFound()
    if not access.works_thread(actor, thread):
        raise NotAllowed("Only the care team saves a thread to the medical record.")
    if message is not None and message.thread_id != thread.id:
        raise NotFound()
    messages = [message] if message is not None else list(thread.messages)
    content = {
        "subject": thread.subject,
        "category": thread.category,
        "care_team": thread.group.name,
        "facility": thread.group.facility.name,
        "messages": [
            {
                "id": m.id,
                "author": m.author.display_name,
                "author_id": m.author_id,
                "from_patient": m.from_patient,
                "sent_at": m.sent_at.isoformat() + "Z",
                "body": m.body,
                "attachments": [a.filename for a in m.attachments],
            }
            for m in messages
        ],
    }
    entry = RecordEntry(
        thread_id=thread.id, message_id=message.id if message else None,
        patient_id=thread.patient_id, saved_by_id=actor.id, saved_at=utcnow(),
        content=json.dumps(content, ensure_ascii=False),
    )
    db.session.add(entry)
    db.session.add(ThreadEvent(thread_id=thread.id, actor_id=actor.id, kind="saved_to_record",
                               note=f"message {message.id}" if message else "whole thread"))
    db.session.flush()  # the entry's id, for its audit row
    audit.add("record_save", actor, thread=thread, message_id=message.id if message else None,
              record_entry_id=entry.id)
    db.session.commit()
    return entry


def entries_for(thread: Thread) -> list[RecordEntry]:
    return list(db.session.scalars(
        select(RecordEntry).where(RecordEntry.thread_id == thread.id).order_by(RecordEntry.id)))


def get_entry_for(user: User, entry_id: int) -> RecordEntry:
    """The entry, for staff on its thread's care team; 404 for anyone else."""
    entry = db.session.get(RecordEntry, entry_id)
    if entry is None or not user.is_staff or not access.can_see_thread(user, entry.thread):
        raise NotFound()
    return entry


# The identifier system of smweb's message reference numbers (services/references.py).
REFERENCE_SYSTEM = "urn:smweb:message-reference"


def _reference(user_id: int, from_patient: bool, name: str) -> dict:
    kind = "Patient" if from_patient else "Practitioner"
    return {"reference": f"{kind}/{user_id}", "display": name}


def to_fhir(entry: RecordEntry) -> dict:
    """The entry as a FHIR R4 Communication resource (a dict ready for JSON)."""
    from fhir.resources.R4B.communication import Communication

    content = json.loads(entry.content)
    messages = content["messages"]
    first = messages[0]
    resource = {
        "resourceType": "Communication",
        "id": f"smweb-record-{entry.id}",
        # Each message's reference number, as the patient and the help desk know it.
        "identifier": [{"system": REFERENCE_SYSTEM, "value": references.of(m["id"])}
                       for m in messages],
        "status": "completed",
        "category": [{"text": content["category"]}],
        "subject": {"reference": f"Patient/{entry.patient_id}",
                    "display": entry.patient.display_name},
        "topic": {"text": content["subject"]},
        "sent": first["sent_at"],
        "sender": _reference(first["author_id"], first["from_patient"], first["author"]),
        "payload": [
            {"contentString": f"{m['author']} ({m['sent_at']}): {m['body']}"}
            for m in messages
        ],
        "note": [{
            "authorReference": {"reference": f"Practitioner/{entry.saved_by_id}",
                                "display": entry.saved_by.display_name},
            "time": entry.saved_at.isoformat() + "Z",
            "text": f"Saved to the medical record by {entry.saved_by.display_name} from "
                    f"secure messaging ({content['care_team']}, {content['facility']}).",
        }],
    }
    Communication.parse_obj(resource)  # raises if the resource is not valid FHIR
    return resource
