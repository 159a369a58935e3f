"""Log a trained model to MLflow, register it as ``claimrisk``, and promote it when it deserves it.

Everything an analyst checks before trusting a model lands in one run: parameters, holdout
metrics (model, baselines, oracle), the data summary and input hash, rules and reference-data
versions as tags, pictures, the model card, and the pyfunc model (raw claims in) registered
under ``claimrisk``. Promotion moves the ``champion`` alias and exports to ``models/``.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import mlflow
import numpy as np
import pandas as pd

from training import plots, reason_metrics
from training.backtest import PERIOD_METRICS
from training.export import export_model
from training.frames import slice_claims
from training.metrics import evaluate
from training.model_card import render_model_card
from training.pipeline import MODEL, ORACLE, TrainResult
from training.progress import note
from training.promotion import (
    PromotionDecision,
    champion_scores,
    champion_window_end,
    common_backtest,
    decide_promotion,
)
from training.signed_models import load_registered, sign_registered_version
from training.signing import signing_key
from training.tracking import (
    CHAMPION_ALIAS,
    champion_version,
    configure,
    flat_metrics,
    model_name,
    next_version,
    pip_requirements,
)


@dataclass(frozen=True)
class RegistryOutcome:
    name: str
    version: str
    run_id: str
    model_uri: str
    decision: PromotionDecision | None
    exported_to: Path | None

    def report(self) -> str:
        lines = [f"registered model {self.name} version {self.version} (run {self.run_id})"]
        if self.decision is None:
            lines.append("not promoted: --promote was not given")
        else:
            verb = "promoted to" if self.decision.promote else "not promoted to"
            lines.append(f"{verb} @{CHAMPION_ALIAS}: {self.decision.reason}")
        if self.exported_to is not None:
            lines.append(f"exported to {self.exported_to}")
        return "\n".join(lines)


def _json_ready(value: Any) -> Any:
    return json.loads(
        json.dumps(value, default=lambda v: v.tolist() if isinstance(v, np.ndarray) else str(v))
    )


def _log_pictures(result: TrainResult, folder: Path) -> None:
    y = result.data.y[result.split.holdout]
    charge = result.data.total_charge[result.split.holdout]
    dollars = result.data.denied_dollars[result.split.holdout]
    curves = {
        k: v
        for k, v in result.holdout_scores.items()
        if k in (MODEL, "rule_count", "logistic_regression", ORACLE)
    }
    plots.reliability_diagram(
        y, {k: v for k, v in curves.items() if k in (MODEL, ORACLE)}, folder / "reliability.png"
    )
    plots.precision_recall(y, curves, folder / "precision_recall.png", result.model.threshold)
    plots.dollars_caught_curve(dollars, charge, curves, folder / "dollars_caught.png")
    plots.per_payer_bars(result.per_payer, "pr_auc", folder / "per_payer_pr_auc.png")
    plots.per_payer_bars(result.per_payer, "dollars_top20", folder / "per_payer_dollars_top20.png")
    plots.feature_importances(
        result.feature_names, result.feature_importances, folder / "feature_importances.png"
    )


def _champion_decision(result: TrainResult, client: Any, name: str) -> PromotionDecision:
    current = champion_version(client, name)
    if current is None:
        return decide_promotion(result.holdout[MODEL], None)
    try:
        # Verified like any other load: a champion whose signature fails is not unpickled here.
        champion, _version, _signed = load_registered(client, name, CHAMPION_ALIAS, key=signing_key())
        return _compare_with_champion(result, champion, str(current.version))
    except Exception as exc:  # a champion that cannot score the new claims cannot keep serving either
        return PromotionDecision(
            True,
            f"the current champion v{current.version} could not be scored on the new claims "
            f"({type(exc).__name__}); promoting the new model",
            str(current.version),
        )


def challenger_out_of_time(result: TrainResult) -> np.ndarray:
    """Per claim, the challenger procedure's score from a model that never saw the claim: the
    backtest's where it ran, else the split model's on the holdout; NaN elsewhere."""
    scores = np.full(len(result.data), np.nan)
    scores[result.split.holdout] = result.holdout_scores[MODEL]
    backtest = result.shipped.backtest if result.shipped is not None else None
    if backtest is not None and backtest.periods:
        rows = backtest.rows
        scores[rows] = backtest.scores[rows]
    return scores


def _compare_with_champion(result: TrainResult, champion: Any, version: str) -> PromotionDecision:
    """The comparison of ``training.promotion`` (module docstring): never on the champion's own
    training claims."""
    data = result.data
    end = champion_window_end(champion.metadata)
    ours = challenger_out_of_time(result)
    after = np.isfinite(ours) & (data.submission_date > end) if end is not None else np.isfinite(ours)
    rows = np.flatnonzero(after)
    if rows.size and np.unique(data.y[rows]).size == 2:
        start = int(rows[0])  # claims are in submission order: the champion scores from there on
        theirs = champion_scores(champion, slice_claims(data.frame, start, len(data)))[rows - start]
        new, old = (
            evaluate(data.y[rows], p, data.total_charge[rows], data.denied_dollars[rows]) for p in (ours[rows], theirs)
        )
        where = f"on the {rows.size} claims submitted after the champion's training window (to {end})"
        return decide_promotion(new, old, champion_version=version, where=where)
    backtest = result.shipped.backtest if result.shipped is not None else None
    theirs_bt = (champion.metadata.get("backtest") or {}).get("periods") or []
    shared = common_backtest(backtest.metrics if backtest is not None else [], theirs_bt)
    if shared is not None:
        new, old, months = shared
        where = f"averaged over the backtest months both procedures ran ({', '.join(months)})"
        return decide_promotion(new, old, champion_version=version, where=where)
    return PromotionDecision(
        True,
        f"no claims after champion v{version}'s training window and no shared backtest months: "
        "nothing out of time to compare on; promoting the new model",
        version,
    )


def example_claims() -> list[str]:
    """The MLflow input example: invented claims, never rows of the analyst's history (PHI)."""
    from claims.examples import EXAMPLE_CLAIMS
    from claims.model import Claim

    return [Claim.model_validate(claim).model_dump_json() for claim in EXAMPLE_CLAIMS]


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="claimrisk-train-")


def _log_run(result: TrainResult, folder: Path) -> None:
    """Parameters, every holdout and candidate metric, version tags, summaries and pictures."""
    model = result.model
    mlflow.log_params(result.params)
    metrics: dict[str, float] = {}
    for scorer, values in result.holdout.items():
        metrics.update(flat_metrics(f"{scorer}_", values))
    metrics.update(flat_metrics("oracle_gap_", result.oracle_gap or {}))
    metrics.update(flat_metrics("op_", {k: v for k, v in result.operating_point.items() if k != "rule"}))
    metrics.update(flat_metrics("time_", result.timings))
    metrics.update(reason_metrics.mlflow_metrics(model.metadata.get("reasons")))  # per-family holdout numbers
    for cand, values in result.candidates.items():
        metrics.update(flat_metrics(f"candidate_{cand}_", values))
    mlflow.log_metrics(metrics)
    summary = result.data.summary
    mlflow.set_tags(
        {
            "rules_version": model.metadata["rules_version"],
            "reference_data_version": model.metadata["reference_data_version"],
            "input_sha256": model.metadata["input_sha256"],
            "estimator": result.chosen,
            "submission_date_range": f"{summary.get('submission_date_min')}..{summary.get('submission_date_max')}",
        }
    )
    mlflow.log_dict(_json_ready(summary), "data_summary.json")
    mlflow.log_dict(_json_ready(result.candidates), "candidates.json")
    mlflow.log_dict(_json_ready(result.holdout), "holdout_metrics.json")
    mlflow.log_dict(_json_ready(result.per_payer), "per_payer.json")
    if model.metadata.get("reasons"):
        mlflow.log_dict(_json_ready(model.metadata["reasons"]), "reasons.json")
    pictures = folder / "plots"
    pictures.mkdir()
    _log_pictures(result, pictures)
    _log_backtest(result, pictures)
    mlflow.log_artifacts(str(pictures), "plots")


def _log_backtest(result: TrainResult, pictures: Path) -> None:
    """The backtest as a metric series (step = month, oldest first), a table, JSON and a plot."""
    backtest = result.shipped.backtest if result.shipped is not None else None
    if backtest is None or not backtest.periods:
        return
    for step, row in enumerate(backtest.metrics):
        mlflow.log_metrics(flat_metrics("backtest_", {m: row.get(m) for m in PERIOD_METRICS}), step=step)
    mlflow.log_dict(_json_ready(backtest.summary()), "backtest.json")
    mlflow.log_text(backtest.table() + "\n", "backtest.txt")
    plots.backtest_periods(backtest.metrics, pictures / "backtest.png")


def _log_and_register(result: TrainResult, folder: Path, client: Any, name: str, guess: int) -> str:
    """Log the pyfunc (the RiskModel as a joblib artifact) and register it; the version number.

    With a signing key, the registered version's files are signed (``training.signed_models``)."""
    from training.pyfunc import INPUT_COLUMN, score_claims_json

    model = result.model
    model_path = folder / "claimrisk.joblib"
    joblib.dump(model, model_path, compress=3)
    examples = example_claims()
    example_df = pd.DataFrame({INPUT_COLUMN: examples})
    signature = mlflow.models.infer_signature(
        example_df, score_claims_json(model, examples), params={"threshold": float(model.threshold)}
    )
    note("logging and registering the model")
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(__file__).with_name("pyfunc_model.py")),
        artifacts={"model": str(model_path)},
        signature=signature,
        input_example=example_df,
        pip_requirements=pip_requirements(),
        registered_model_name=name,
    )
    version = str(info.registered_model_version or guess)
    if version != str(guess):  # another writer registered in between: fix the exported metadata
        model.metadata["model_version"] = version
    client.set_model_version_tag(name, version, "estimator", result.chosen)
    client.set_model_version_tag(name, version, "pr_auc", f"{result.holdout[MODEL]['pr_auc']:.4f}")
    client.set_model_version_tag(name, version, "rules_version", model.metadata["rules_version"])
    key = signing_key()
    if key is not None:
        sign_registered_version(client, name, version, key)
    return version


def _promote(
    result: TrainResult, client: Any, name: str, version: str, card: str, models_dir: Path | None
) -> tuple[PromotionDecision, Path | None]:
    """Compare with the champion; when the new model deserves it, move the alias and export."""
    decision = _champion_decision(result, client, name)
    mlflow.set_tags({"promoted": str(decision.promote).lower(), "promotion_reason": decision.reason})
    if not decision.promote:
        return decision, None
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
    exported = export_model(result.model, models_dir)
    (exported.parent / "model_card.md").write_text(card)
    return decision, exported


def register_and_promote(
    result: TrainResult, *, claims_path: Path, promote: bool, models_dir: Path | None
) -> RegistryOutcome:
    client, experiment_id = configure()
    name = model_name()
    model = result.model
    guess = next_version(client, name)
    model.metadata["model_version"] = str(guess)
    model.metadata["registered_model"] = name
    decision: PromotionDecision | None = None
    exported: Path | None = None
    with (
        mlflow.start_run(
            experiment_id=experiment_id, run_name=f"train-{model.metadata['trained_at']}"
        ) as run,
        scratch_dir() as tmp,
    ):
        folder = Path(tmp)
        model.metadata["mlflow_run_id"] = run.info.run_id
        _log_run(result, folder)
        version = _log_and_register(result, folder, client, name, guess)
        card = render_model_card(model.metadata, result.holdout, result.candidates)
        (folder / "model_card.md").write_text(card)
        mlflow.log_artifact(str(folder / "model_card.md"))
        if promote:
            decision, exported = _promote(result, client, name, version, card, models_dir)
    return RegistryOutcome(
        name=name,
        version=version,
        run_id=run.info.run_id,
        model_uri=f"models:/{name}/{version}",
        decision=decision,
        exported_to=exported,
    )
