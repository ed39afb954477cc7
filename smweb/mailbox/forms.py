from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired


class FolderForm(FlaskForm):
    name = StringField(
        "Folder name",
        validators=[DataRequired("Enter a name for the folder.")],
        description="At most 50 characters: letters, digits and spaces.",
        render_kw={"maxlength": 50},
    )
