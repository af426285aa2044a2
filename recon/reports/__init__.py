"""Reports: one module per report, each a typed context that is also its JSON."""
