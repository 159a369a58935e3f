from claimrisk.cli import run

raise SystemExit(run())
