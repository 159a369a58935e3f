"""Rules (the flags a biller can fix) and the features the risk model learns from.

Everything here reads only what is known before the claim is submitted; nothing from a
remittance may reach a rule or a feature (``features.leakage`` enforces it in tests).
"""
