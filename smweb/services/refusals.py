"""The refusals a service raises when its rules say no. A service knows nothing of HTTP: it
raises one of these, and the web answers by its kind (one error handler, security.py), or a
view catches it and shows its text where the user acted. A command-line caller sees the same
exception, with words for a person.

- `NotFound` (404): not there, or not this user's to see; the two are never told apart, so
  an id tells nothing about what lies behind it.
- `Forbidden` (403): the user may see it but not do this to it.
- `NotAllowed` (422): the rules forbid this now; the text says why. Each service's own no
  is one of these (AdminError, BlockError, FolderError, PasswordError, PreferencesError,
  TriageError), raised before it changes anything: nothing is left for a caller to undo.
"""

from flask_babel import gettext


class Refusal(Exception):
    """A service's no. `status` is the HTTP status the web answers it with."""

    status = 422


class NotFound(Refusal):
    status = 404

    def __init__(self, what: str | None = None):
        super().__init__(what or gettext("That is not there, or not one you can open."))


class Forbidden(Refusal):
    status = 403

    def __init__(self, why: str | None = None):
        super().__init__(why or gettext("Your account can't do that."))


class NotAllowed(Refusal):
    """The rules forbid this; the text says why."""


class DraftGone(NotAllowed):
    """The draft was sent or deleted (in another window) while this request worked on it."""


class FilesStillUploading(NotAllowed):
    """A send arrived while files for the same draft were still being checked and stored."""

    def __init__(self):
        super().__init__(gettext(
            "Your message has not been sent yet: your files are still being uploaded. "
            "When they are listed under Attachments, press Send again. What you wrote is "
            "saved in Drafts."))
