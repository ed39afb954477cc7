from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired


class FolderForm(FlaskForm):
    name = StringField(
        lazy_gettext("Folder name"),
        validators=[DataRequired(lazy_gettext("Enter a name for the folder."))],
        description=lazy_gettext("At most 50 characters: letters, digits and spaces."),
        render_kw={"maxlength": 50},
    )
