"""Spreadsheets in and out: bounded reading of uploaded workbooks (``limits``) and the one writer every
export uses (``writer``): text is always text, nothing a spreadsheet would execute."""
