"""claimrisk: denial-risk prediction for physician-administered drug claims."""

__version__ = "0.1.0"
