"""Models-from-code entry for MLflow: the pyfunc wrapper is defined by this file, not pickled.

MLflow copies this file into the logged model and runs it at load time; the RiskModel comes from
the ``model`` artifact (joblib). Keeping the wrapper out of cloudpickle means a model logged today
still loads after the wrapper's code changes.
"""

from mlflow.models import set_model

from training.pyfunc import ClaimRiskPyfunc

set_model(ClaimRiskPyfunc())
