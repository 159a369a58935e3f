"""The worklist: a persistent queue of scored claims that billing teams work.

Layers: it sits above ``claims``/``edi``/``inputs``/``features``/``training`` and below ``serving``
(which it never imports: the scorer is injected, see ``worklist.scoring.ClaimScorer``). Routes,
pages and the CLI are thin layers over plain service functions that take a SQLAlchemy ``Session``
and typed arguments, know no HTTP, and raise ``worklist.errors`` (NotFound, Conflict, Forbidden,
InvalidInput, AuthenticationFailed).

Modules: ``db`` (engine, migrations, sessions), ``models`` (tables), ``roles`` (who may do what),
``users`` (users, passwords, tokens), ``importing`` (claims in, scored), ``workflow`` (view, edit,
what-if, status, notes, rescore), ``queue`` (pages, filters, totals), ``export`` (CSV/Parquet,
JSONL, 837), ``outcomes`` (remittances and results), ``audit`` (the append-only trail).
"""
