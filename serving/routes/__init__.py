"""Thin routers: HTTP in and out, everything else in ``serving.scorer`` and ``serving.model_store``."""
