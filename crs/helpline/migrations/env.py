"""Alembic environment of the helpline console: runs on the connection it is given
(``crs.helpline.schema.migrate``), in the tracker store's database."""

from alembic import context

from crs.helpline.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
