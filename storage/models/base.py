from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Self

from sqlalchemy import JSON, DateTime, MetaData, Table, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores instants in UTC and always gives them back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is needed")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}
    # Every entity is mapped to one table (no joined or custom selectables): core inserts
    # and updates may use it directly.
    __table__: ClassVar[Table]

    @classmethod
    def written(cls, **values) -> Self:
        """The object of a row a Core statement has just written (not in any session):
        its values set as if loaded, without the constructor's attribute events, which
        cost twenty times more on the ledger's hot paths."""
        if not cls.__mapper__.configured:  # as the constructor's first call would
            configure_mappers()
        row = manager_of_class(cls).new_instance()
        row.__dict__.update(values)
        return row
