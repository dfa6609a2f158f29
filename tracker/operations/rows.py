"""Every table of the database as JSON lines, and back (the database part of a backup archive).

Tables are found by reflecting the database itself (not the models), so a table added by any
migration is carried without changes here. Values that JSON cannot hold are tagged
(``{"$datetime": "…"}``, ``$date``, ``$time``, ``$decimal``, ``$bytes``, ``$json``, ``$uuid``), so a dump
restores into SQLite or PostgreSQL alike.
"""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import LargeBinary, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import Connection

from ..files import open_private

SKIP_TABLES = frozenset({"alembic_version"})
CHUNK = 500
# Tables with binary columns (evidence_blobs: up to 20 MB a row) are read and written a few rows at a time.
BINARY_CHUNK = 4


def chunk_size(table: Table) -> int:
    return BINARY_CHUNK if any(isinstance(c.type, LargeBinary) for c in table.columns) else CHUNK


class RowsError(Exception):
    """A one-line reason the rows could not be dumped or loaded."""


def encode(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, (dict, list)):
        return {"$json": value}
    raise RowsError(f"无法备份类型为 {type(value).__name__} 的值")


DECODERS = {
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$decimal": Decimal,
    "$bytes": lambda v: base64.b64decode(v),
    "$uuid": uuid.UUID,
    "$json": lambda v: v,
}


def decode(value):
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        return DECODERS[tag](inner)
    return value


def reflect_tables(conn: Connection) -> list[Table]:
    """The database's own tables in dependency order (parents first), without Alembic's."""
    metadata = MetaData()
    metadata.reflect(bind=conn)
    return [t for t in metadata.sorted_tables if t.name not in SKIP_TABLES]


def count_rows(conn: Connection, tables: Iterable[Table]) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def alembic_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def dump_table(conn: Connection, table: Table, path: Path) -> dict:
    """Write ``table`` as JSON lines (one object per row, primary-key order); returns rows and sha256."""
    order = list(table.primary_key.columns) or list(table.columns)
    digest = hashlib.sha256()
    rows = 0
    with open_private(path) as fh:
        result = conn.execution_options(stream_results=True, yield_per=2 * chunk_size(table)).execute(
            select(table).order_by(*order))
        for row in result.mappings():
            line = (json.dumps({k: encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n").encode()
            digest.update(line)
            fh.write(line)
            rows += 1
    return {"rows": rows, "sha256": digest.hexdigest()}


def read_rows(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield {k: decode(v) for k, v in json.loads(line).items()}


def parents_first(table: Table, rows: list[dict]) -> list[dict]:
    """Order rows so that a row referring to its own table (tasks.parent_id) comes after its parent."""
    self_refs = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table]
    if not self_refs:
        return rows
    ordered: list[dict] = []
    placed: set = set()
    waiting = rows
    while waiting:
        later = []
        for row in waiting:
            ready = all(row.get(col) is None or (target, row[col]) in placed
                        or row[col] == row.get(target) for col, target in self_refs)
            if ready:
                ordered.append(row)
                placed.update((target, row.get(target)) for _, target in self_refs)
            else:
                later.append(row)
        if len(later) == len(waiting):  # a reference to a row that is not there: let the database refuse it
            ordered.extend(later)
            break
        waiting = later
    return ordered


def _check_columns(table: Table, rows: list[dict]) -> None:
    unknown = set().union(*(r.keys() for r in rows)) - set(table.columns.keys()) if rows else set()
    if unknown:
        raise RowsError(f"表 {table.name} 没有列 {', '.join(sorted(unknown))}：备份与数据库结构不一致")


def load_table(conn: Connection, table: Table, path: Path) -> int:
    chunk = chunk_size(table)
    if not any(fk.column.table is table for fk in table.foreign_keys):
        # No row refers to its own table: stream the file, a chunk at a time (bounded memory).
        loaded, batch = 0, []
        for row in read_rows(path):
            batch.append(row)
            if len(batch) == chunk:
                _check_columns(table, batch)
                conn.execute(table.insert(), batch)
                loaded, batch = loaded + len(batch), []
        if batch:
            _check_columns(table, batch)
            conn.execute(table.insert(), batch)
        return loaded + len(batch)
    rows = list(read_rows(path))
    _check_columns(table, rows)
    rows = parents_first(table, rows)
    for start in range(0, len(rows), chunk):
        conn.execute(table.insert(), rows[start:start + chunk])
    return len(rows)


def reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL: move each serial/identity sequence past the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": quote(table.name), "c": column.name}).scalar()
            if seq:
                conn.execute(text(f"SELECT setval(:s, COALESCE((SELECT MAX({quote(column.name)}) "
                                  f"FROM {quote(table.name)}), 0) + 1, false)"), {"s": seq})
