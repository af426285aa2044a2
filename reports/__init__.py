"""What recon shows people: one module per report, each a typed context that is also its JSON.

``common`` holds what every report shares (the Jinja2 environment and its
filters, :class:`~reports.common.Money` with 大写, atomic file writes,
the JSON encoding); ``nightly``, ``monthly`` and ``finance`` (JSON, HTML and the XLSX
workbook) are the reports.  Reports only show:
they read the conclusions the store holds and never recompute them.
"""
