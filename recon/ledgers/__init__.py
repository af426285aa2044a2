"""The agency's ledgers, side by side: what it asked for and what went wrong.

Each ledger is imported from a CSV/XLSX file (all rows or none), keeps every
change as a new revision, and is read through its latest revisions.
"""
