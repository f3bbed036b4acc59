"""The workspace contract tests the azure-ai-ml backend already meets, run on it unchanged.

Imported from tests/workspace; this folder's conftest.py gives them an AzureMLWorkspace on
the real azure-ai-ml, answered by Azure ML's REST API in memory. The backend does not do
datasets, runs or deployments yet (see test_azure_v2_backend.py), so only the compute and
environment contracts are imported, less the ones that need runs or this machine:

* ``test_compute_instance_records_this_machine``: an Azure compute instance is a VM in the
  cloud, not this machine (tested in test_azure_v2_backend.py);
* ``test_delete_is_refused_while_a_run_executes``: it submits runs;
* ``test_check_environment_names_what_is_missing``: Azure builds the image itself.
"""

from __future__ import annotations

from workspace.test_ws_compute_contract import (test_cluster_is_created_then_provisioned_with_state_callbacks,  # noqa: F401
                                                test_cluster_names_follow_azure_rules, test_cluster_settings_are_checked,
                                                test_compute_status_counts_nodes_in_use,
                                                test_missing_compute_is_a_clear_error)
from workspace.test_ws_registry_contract import (test_environment_input_is_checked,  # noqa: F401
                                                 test_environment_versions_only_change_when_the_definition_does)
