"""smweb: secure messaging between patients and their care teams."""

from pathlib import Path

from flask import Flask

from .config import INSTANCE_PATH, PROJECT_ROOT, Config, config_from_env, derive
from .routing import IdConverter


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    """Build the app: configuration, extensions, blueprints and request hooks."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_PATH),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.url_map.converters["id"] = IdConverter
    app.config.from_object(config_class or config_from_env())
    app.config.update(overrides)
    derive(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import assets, cli, database, i18n, security, tasks, templating
    from .extensions import csrf, db, htmx, login_manager, migrate
    from .services import attachments, scanning, storage

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        database.configure_engine(app, db.engine)
    storage.init_app(app)
    scanning.init_app(app)
    attachments.init_app(app)
    tasks.init_app(app)

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .mailbox import bp as mailbox_bp
    from .threads import bp as threads_bp
    from .triage import bp as triage_bp

    app.register_blueprint(assets.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(mailbox_bp)
    app.register_blueprint(threads_bp)
    app.register_blueprint(triage_bp, url_prefix="/triage")
    app.register_blueprint(admin_bp, url_prefix="/admin")

    security.init_app(app)
    templating.init_app(app)
    i18n.init_app(app)
    cli.init_app(app)
    return app
