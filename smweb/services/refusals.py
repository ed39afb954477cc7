"""The refusals a service raises when its rules say no: the text says why, in words for the
user, and the view shows it where the user acted."""


class NotAllowed(Exception):
    """The rules forbid this; the text says why."""


class DraftGone(NotAllowed):
    """The draft was sent or deleted (in another window) while this request worked on it."""


class FilesStillUploading(NotAllowed):
    """A send arrived while files for the same draft were still being checked and stored."""

    def __init__(self):
        super().__init__(
            "Your message has not been sent yet: your files are still being uploaded. "
            "When they are listed under Attachments, press Send again. What you wrote is "
            "saved in Drafts.")
