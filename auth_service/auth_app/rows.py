"""Reading the one value of a statement that always returns a row, with its type.

``count(*)`` and ``UPDATE ... RETURNING`` of a locked row always give a row;
psycopg types ``fetchone()`` as maybe ``None``. ``first_int`` says so once.
"""

from typing import Any


def first_int(row: tuple[Any, ...] | None) -> int:
    """The first column of ``row`` as an int.

    A missing row raises ``TypeError``, as indexing ``None`` did before.
    """
    if row is None:
        raise TypeError("the statement returned no row")
    value: int = row[0]
    return value
