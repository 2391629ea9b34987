"""Reading products and stock receipts from CSV: every row checked before anything is written.

A file is refused whole when any row is wrong, and each problem names its row (as a spreadsheet
numbers it: the header is row 1), its column and what is wrong, so the person can fix the file and
try again. Nothing here touches the database: the service hands in what the database knows (the
catalogue, the lots on record, today's date) and writes what comes out.

rows.py reads the file and checks cells; products.py and receipts.py check what each kind of row
says (receipts.py also reads the expiry dates printed on labels).
"""

from mesomix.domain.imports.products import PRODUCT_COLUMNS, ProductImport, check_products
from mesomix.domain.imports.receipts import (
    STOCK_COLUMNS,
    LotOnRecord,
    Receipt,
    check_receipt_form,
    check_receipts,
    expiry_date,
)
from mesomix.domain.imports.rows import (
    MAX_PROBLEMS_SHOWN,
    MAX_ROWS,
    CsvRows,
    ImportRefused,
    Progress,
    RowProblem,
    read_rows,
)

__all__ = [
    "MAX_PROBLEMS_SHOWN",
    "MAX_ROWS",
    "PRODUCT_COLUMNS",
    "STOCK_COLUMNS",
    "CsvRows",
    "ImportRefused",
    "LotOnRecord",
    "ProductImport",
    "Progress",
    "Receipt",
    "RowProblem",
    "check_products",
    "check_receipt_form",
    "check_receipts",
    "expiry_date",
    "read_rows",
]
