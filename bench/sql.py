"""Statements that copy a template row with some columns replaced.

Other work changes the tables while the bench lives on: copying every column the bench does not
set from a row the app itself wrote keeps bulk loads and the raw baseline valid without knowing
each new column.
"""

from __future__ import annotations

import asyncpg


async def table_columns(connection: asyncpg.Connection, table: str) -> list[str]:
    """The columns of a table in the public schema that an INSERT may set (no generated ones)."""
    rows = await connection.fetch(
        """SELECT attname FROM pg_attribute
           WHERE attrelid = ('public.' || $1)::regclass AND attnum > 0 AND NOT attisdropped
             AND attgenerated = '' AND attidentity <> 'a'
           ORDER BY attnum""", table)
    return [row["attname"] for row in rows]


def clone_statement(table: str, columns: list[str], overrides: dict[str, str], *, source: str) -> str:
    """`INSERT INTO table (...) SELECT ... FROM source`: each column from `overrides` (a SQL
    expression) when given and present, else copied from the template row aliased `t`."""
    quoted = ", ".join(f'"{column}"' for column in columns)
    values = ", ".join(overrides.get(column, f't."{column}"') for column in columns)
    return f"INSERT INTO {table} ({quoted}) SELECT {values} FROM {source}"
