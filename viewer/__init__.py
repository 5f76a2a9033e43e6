"""Wardview: a clinical record viewer that joins the GP and hospital record, keeping every source visible."""

__version__ = "0.1.0"
