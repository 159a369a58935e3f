"""Log a trained model to MLflow, register it as ``claimrisk``, and promote it when it deserves it.

Everything an analyst checks before trusting a model lands in one run: parameters, holdout
metrics (model, baselines, oracle), the data summary and input hash, rules and reference-data
versions as tags, pictures, the model card, and the pyfunc model (raw claims in) registered
under ``claimrisk``. Promotion moves the ``champion`` alias and exports to ``models/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import mlflow
import numpy as np
import pandas as pd

from training import plots
from training.export import export_model
from training.metrics import evaluate
from training.model_card import render_model_card
from training.pipeline import MODEL, ORACLE, TrainResult
from training.progress import note
from training.promotion import PromotionDecision, champion_scores, decide_promotion
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
    new_metrics = result.holdout[MODEL]
    if current is None:
        return decide_promotion(new_metrics, None)
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION_ALIAS}")
        champion = loaded.unwrap_python_model().model
        split = result.split
        p = champion_scores(champion, result.holdout_frame)
        data = result.data
        old_metrics = evaluate(
            data.y[split.holdout], p, data.total_charge[split.holdout], data.denied_dollars[split.holdout]
        )
    except Exception as exc:  # a champion that cannot score the new holdout cannot keep serving either
        return PromotionDecision(
            True,
            f"the current champion v{current.version} could not be scored on the new holdout "
            f"({type(exc).__name__}); promoting the new model",
            str(current.version),
        )
    return decide_promotion(new_metrics, old_metrics, champion_version=str(current.version))


def register_and_promote(
    result: TrainResult, *, claims_path: Path, promote: bool, models_dir: Path | None
) -> RegistryOutcome:
    from training.commands import example_claims, scratch_dir
    from training.pyfunc import INPUT_COLUMN, score_claims_json

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
        mlflow.log_params(result.params)
        metrics: dict[str, float] = {}
        for scorer, values in result.holdout.items():
            metrics.update(flat_metrics(f"{scorer}_", values))
        metrics.update(flat_metrics("oracle_gap_", result.oracle_gap or {}))
        metrics.update(flat_metrics("op_", {k: v for k, v in result.operating_point.items() if k != "rule"}))
        metrics.update(flat_metrics("time_", result.timings))
        for cand, values in result.candidates.items():
            metrics.update(flat_metrics(f"candidate_{cand}_", values))
        mlflow.log_metrics(metrics)
        mlflow.set_tags(
            {
                "rules_version": model.metadata["rules_version"],
                "reference_data_version": model.metadata["reference_data_version"],
                "input_sha256": model.metadata["input_sha256"],
                "estimator": result.chosen,
                "submission_date_range": f"{result.data.summary.get('submission_date_min')}..{result.data.summary.get('submission_date_max')}",
            }
        )
        mlflow.log_dict(_json_ready(result.data.summary), "data_summary.json")
        mlflow.log_dict(_json_ready(result.candidates), "candidates.json")
        mlflow.log_dict(_json_ready(result.holdout), "holdout_metrics.json")
        mlflow.log_dict(_json_ready(result.per_payer), "per_payer.json")
        pictures = folder / "plots"
        pictures.mkdir()
        _log_pictures(result, pictures)
        mlflow.log_artifacts(str(pictures), "plots")

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
        card = render_model_card(model.metadata, result.holdout, result.candidates)
        (folder / "model_card.md").write_text(card)
        mlflow.log_artifact(str(folder / "model_card.md"))

        if promote:
            decision = _champion_decision(result, client, name)
            mlflow.set_tags({"promoted": str(decision.promote).lower(), "promotion_reason": decision.reason})
            if decision.promote:
                client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
                exported = export_model(model, models_dir)
                (exported.parent / "model_card.md").write_text(card)
    return RegistryOutcome(
        name=name,
        version=version,
        run_id=run.info.run_id,
        model_uri=f"models:/{name}/{version}",
        decision=decision,
        exported_to=exported,
    )
