"""Alembic's environment: Flask-Migrate runs it in the app, on Flask-SQLAlchemy's engine."""

from __future__ import annotations

from alembic import context
from flask import current_app


def run_migrations() -> None:
    """Run the migrations on the app's database, or print their SQL (`flask db upgrade --sql`)."""
    migrate = current_app.extensions["migrate"]
    engine = migrate.db.engine
    options = {"target_metadata": migrate.db.metadata, **migrate.configure_args}
    if context.is_offline_mode():
        context.configure(dialect_name=engine.dialect.name, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
