"""What an owner brings from elsewhere, read from CSV files (csvfile.py).

customers.py: orders from a shop or CRM (`polku contacts import FILE`);
subscribers.py: a list exported from another mail tool, recognised by its
header (formats.py), with each person's consent as imported proof, or asked
again by email (reconfirm.py; `polku contacts import FILE --subscribers`).
"""

from .csvfile import CsvError, decode, read_table
from .customers import import_rows, parse_date, parse_row, parse_value, read_csv

__all__ = [
    "CsvError",
    "decode",
    "import_rows",
    "parse_date",
    "parse_row",
    "parse_value",
    "read_csv",
    "read_table",
]
