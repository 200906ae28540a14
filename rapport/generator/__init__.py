"""The synthetic data generator: a simulated key-account business written as raw files.

Entry points live in rapport.generator.command (generate, run_generate).
"""
