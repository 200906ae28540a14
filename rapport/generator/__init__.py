"""The synthetic data generator: a simulated key-account business written as raw files.

Entry points live in rapport.generate (generate, run_generate).
"""
