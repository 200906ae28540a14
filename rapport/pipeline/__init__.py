"""The pipeline layer: raw files -> warehouse.

The ingest, the quarantine gate, dbt, the data checks, publish, incremental builds, the
Spark engine, the CRM importer and the build's merge of recorded assessments. Nothing here
imports the dashboard, its access control or `rapport serve` (tests/test_layers.py).
"""
