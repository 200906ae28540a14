"""Development tools of the checkout, not shipped in the wheel: `python -m tools.bench`
(`make bench`)."""
