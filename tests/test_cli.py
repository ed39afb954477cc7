"""`flask smweb ...` commands."""

from smweb import create_app
from smweb.config import ProductionConfig
from smweb.extensions import db
from smweb.models import Thread, User

DEMO_USERNAMES = {"veteran1", "veteran2", "basic1", "nurse1", "doctor1", "clerk1", "cardio1",
                  "coordinator1", "admin1", "caregiver1"}


def test_seed_demo_prints_sign_ins_and_runs_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["smweb", "seed-demo"])  # the fixture seeded already
    assert result.exit_code == 0
    assert "Demo data already present." in result.output
    assert "demo-password-1" in result.output
    assert "coordinator1  coordinator" in result.output and "admin1        admin" in result.output
    for username in DEMO_USERNAMES:
        assert username in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == len(DEMO_USERNAMES)
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 4


def test_seed_demo_on_an_empty_database(app):
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["smweb", "seed-demo"])
    assert result.exit_code == 0 and "Demo data created." in result.output
    with app.app_context():
        names = set(db.session.scalars(db.select(User.username)))
        assert names == DEMO_USERNAMES


def test_seed_demo_is_refused_in_production(app):
    production = create_app(ProductionConfig, SECRET_KEY="x" * 32,
                            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    result = production.test_cli_runner().invoke(args=["smweb", "seed-demo"])
    assert result.exit_code != 0
    assert "refused under the production configuration" in result.output
    with production.app_context():
        db.engine.dispose()
