"""Retraining on an analyst's own history: join, label, split by time, fit, evaluate, register.

``risk_model.RiskModel`` is the saved artifact (never rename its module or class);
``commands.train`` is ``claimrisk train``.
"""
