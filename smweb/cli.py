"""`flask --app app smweb ...`: commands for site admins and cron."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .services import demo

smweb_cli = AppGroup("smweb", help="smweb administration commands.")


def init_app(app: Flask) -> None:
    app.cli.add_command(smweb_cli)


@smweb_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Add the demo facility, care teams, accounts and threads (not in production)."""
    if not current_app.config["ALLOW_DEMO_SEED"]:
        raise click.ClickException(
            "seed-demo is refused under the production configuration: demo accounts share "
            "a published password. Set SMWEB_ENV=development to try smweb."
        )
    created = demo.seed_demo()
    click.echo("Demo data created." if created else "Demo data already present.")
    click.echo(f"Demo sign-ins (demo only), password for all: {demo.DEMO_PASSWORD}")
    for username, name, role, level, _opted_in, _groups in demo.DEMO_ACCOUNTS:
        kind = f"{level} patient" if role == "patient" else "staff"
        click.echo(f"  {username:<10} {kind:<16} {name}")
