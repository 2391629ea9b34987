"""Reports for managers: SQL aggregates shaped with pandas, exported as CSV or XLSX. No Textual."""
