"""dana-uat: the automated UAT conformance suite for DANA Widget Binding (SNAP-BI)."""

__version__ = "0.1.0"
