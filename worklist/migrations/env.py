"""Alembic environment of the worklist store, run programmatically by ``worklist.db.migrate``.

The engine comes in through ``config.attributes`` (no alembic.ini, no URL in a file): the store's
own engine factory has already set SQLite's pragmas and created its private file.
"""

from __future__ import annotations

from alembic import context

from worklist.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
