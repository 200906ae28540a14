"""rapport: relationship-health warehouse and dashboard for B2B key-account sales teams."""

__version__ = "0.1.0"
