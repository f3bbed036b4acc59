"""The workspace contract tests, run on the Azure backend (against the fake Azure).

The tests are imported from tests/workspace unchanged; this folder's conftest.py gives
them an AzureWorkspace as ``workspace``. A few test something the Azure backend does
differently on purpose; they are left out here and covered by test_azure_backend.py:

* ``test_compute_instance_records_this_machine``: the embedded instance *is* this
  machine and records its cores, Python and packages; an Azure compute instance is a VM
  in the cloud, recorded with its size and its applications (Jupyter, RStudio URLs).
* ``test_check_environment_names_what_is_missing``: Azure builds an environment's image
  remotely, so check_environment reports what the environment declares (ok=True); it
  cannot say what is missing on a machine it does not run on.
* ``test_run_completes_logs_metrics_and_streams_its_log``: ``run.get_metrics()`` returns
  a list both for a metric logged several times and for one ``log_list``; the backend
  reads a list as a history, so a logged list's value is its last element. Everything
  else that test checks is checked by the Azure variant.
* ``test_course_regression_runs_on_a_registered_dataset`` (slow): its script reads the
  dataset from the embedded workspace's folder ($TUTOR_WORKSPACE_DIR).
"""

from __future__ import annotations


import pytest

from tutor.workspace.azure.config import azure_problem

from workspace.test_ws_compute_contract import *  # noqa: F401,F403
from workspace.test_ws_data_contract import *  # noqa: F401,F403
from workspace.test_ws_logged_contract import *  # noqa: F401,F403
from workspace.test_ws_registry_contract import *  # noqa: F401,F403
from workspace.test_ws_runs_contract import *  # noqa: F401,F403

AZURE_PROBLEM = azure_problem()
pytestmark = pytest.mark.skipif(AZURE_PROBLEM is not None, reason=AZURE_PROBLEM or "")

# Left out on purpose (see the module doc); deleting the names keeps pytest from collecting them.
del test_compute_instance_records_this_machine  # noqa: F821
del test_check_environment_names_what_is_missing  # noqa: F821
del test_run_completes_logs_metrics_and_streams_its_log  # noqa: F821
del test_course_regression_runs_on_a_registered_dataset  # noqa: F821
