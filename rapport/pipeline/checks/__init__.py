"""Data checks (great-expectations) on a built warehouse.

This package's __init__ imports nothing: only `rapport.pipeline.checks.runner` imports
great_expectations. The result model and the meta.dq_results table are shared vocabulary
(the dashboard reads them): rapport/check_results.py.
"""
