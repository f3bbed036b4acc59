"""What an azureml-core (or Azure) error means for the learner, and what to do about it.

The SDK raises a handful of exception types (``AuthenticationException``,
``UserErrorException``, ``ProjectSystemException``, ``ComputeTargetException``,
``WebserviceException``, ``ServiceException``...) whose messages carry Azure's error
codes (``AADSTS700082``, ``AuthorizationFailed``, ``QuotaExceeded``...). :func:`explain`
matches the type name and the text against the rules below, first match wins, and
returns a :class:`~tutor.errors.TutorError` whose fix names the action to take; the
SDK's own text stays in ``detail`` (and the tutor's log), not on the screen.

Matching on names and text (not on imported classes) keeps this module importable
without azureml, and lets the tests use the SDK's real exception types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tutor.errors import TutorError


@dataclass(frozen=True)
class Rule:
    patterns: tuple[str, ...]  # regular expressions, searched in "TypeName: message"
    what: str                  # may use {doing}, {workspace}, {subscription}, {resource_group}
    fix: str


LOGIN_AGAIN = ("Sign in again: run the step again and follow the device-code login (or run `az login` if you use "
               "the Azure CLI login; for a service principal check AZURE_TENANT_ID, AZURE_CLIENT_ID and "
               "AZURE_CLIENT_SECRET).")

RULES: tuple[Rule, ...] = (
    Rule((r"azureml-dataset-runtime", r"No module named 'azureml\.dataprep'"),
         "Tabular datasets need the package azureml-dataset-runtime on this machine ({doing}).",
         "Install it with `pip install azureml-dataset-runtime` (it brings azureml-dataprep; it changes the "
         "numpy and pyarrow versions, see the README's Azure section), then run the step again."),
    Rule((r"AADSTS700082", r"AADSTS50173", r"AADSTS70043", r"AADSTS700084", r"refresh token has expired",
          r"token.{0,40}expired", r"ExpiredAuthenticationToken", r"InvalidAuthenticationTokenTenant",
          r"Please run 'az login'", r"az login", r"interaction_required", r"invalid_grant"),
         "Your Azure login has expired or is no longer valid, so {doing} was refused.",
         LOGIN_AGAIN),
    Rule((r"AADSTS7000215", r"AADSTS7000222", r"Invalid client secret", r"client secret.{0,40}expired"),
         "The service principal's secret was refused by Azure ({doing}).",
         "Create a new client secret for the app registration and put it in AZURE_CLIENT_SECRET; check that "
         "AZURE_CLIENT_ID is the app's Application (client) ID."),
    Rule((r"AADSTS700016", r"AADSTS90002", r"AADSTS900023", r"Tenant '.*' not found", r"tenant.{0,40}not found"),
         "Azure does not know the tenant or the application used to sign in ({doing}).",
         "Check AZURE_TENANT_ID (your Microsoft Entra tenant's ID) and AZURE_CLIENT_ID, or unset them to sign "
         "in with the device-code login."),
    Rule((r"specified subscription name", r"instead of subscription id"),
         "config.json names the subscription by its name; Azure needs its ID.",
         "Put the subscription ID (a GUID, shown on the subscription's page in the portal) in subscription_id, "
         "or download config.json again from the workspace's overview page."),
    Rule((r"don't have access to .{0,80}subscription", r"SubscriptionNotFound", r"InvalidSubscriptionId",
          r"subscription .{0,60}(could not be found|not found)", r"No subscriptions found"),
         "The account you signed in with cannot see subscription {subscription}.",
         "Sign in with the account that owns the workspace (in its tenant: set tenant_id in config.json), "
         "or fix subscription_id in config.json (download it again from the workspace's overview page)."),
    Rule((r"MissingSubscriptionRegistration", r"not registered to use namespace"),
         "The subscription has not enabled an Azure service that {doing} needs.",
         "In the portal, open the subscription > Resource providers and register Microsoft.MachineLearningServices "
         "(and Microsoft.ContainerInstance for ACI services), or ask the subscription's owner to."),
    Rule((r"AuthorizationFailed", r"does not have authorization", r"\b403\b", r"Forbidden",
          r"LinkedAuthorizationFailed", r"PermissionDenied", r"not authorized"),
         "Your account is not allowed to do this in the workspace ({doing}).",
         "Ask the workspace's owner to give you the role \"AzureML Data Scientist\" (or Contributor) on workspace "
         "{workspace}; creating compute needs \"AzureML Compute Operator\" or Contributor."),
    Rule((r"ResourceGroupNotFound", r"[Rr]esource group .{0,80}could not be found"),
         "The resource group {resource_group} does not exist in subscription {subscription}.",
         "Fix resource_group in config.json (download it again from the workspace's overview page)."),
    Rule((r"Workspace not found", r"ResourceNotFound.{0,200}workspaces", r"workspaces/.{0,80}not found",
          r"ParentResourceNotFound"),
         "There is no workspace {workspace} in resource group {resource_group}.",
         "Fix workspace_name in config.json (download it again from the workspace's overview page), or create "
         "the workspace in the portal first."),
    Rule((r"QuotaExceeded", r"exceeding approved .{0,80}quota", r"quota", r"OperationNotAllowed.{0,200}[Cc]ores"),
         "Azure refused {doing}: the subscription's quota for this VM family is used up in this region.",
         "Delete compute you no longer use (list_compute), choose a smaller VM size, or request more quota in the "
         "portal (Azure Machine Learning > Quotas); a free trial has very little."),
    Rule((r"SkuNotAvailable", r"not available in location", r"VmSizeNotSupported", r"InvalidVmSize",
          r"not supported in region"),
         "The VM size asked for is not available in the workspace's region ({doing}).",
         "Choose another VM size (STANDARD_DS3_V2 and STANDARD_D2_V2 are widely available)."),
    Rule((r"ContainerGroupQuotaReached", r"ServiceCapacity", r"ContainerGroupsQuota"),
         "Azure Container Instances has no room for another service in this region ({doing}).",
         "Delete services you no longer need (delete_service), then deploy again."),
    Rule((r"TooManyRequests", r"\b429\b", r"Rate limit", r"throttl"),
         "Azure is limiting how fast this subscription may call it, so {doing} was refused after several tries.",
         "Wait a minute (other scripts or learners on the same subscription may be calling Azure too), then run "
         "the step again."),
    Rule((r"Connection aborted", r"ConnectionError", r"Max retries exceeded", r"Name or service not known",
          r"Temporary failure in name resolution", r"timed out", r"ServiceUnavailable", r"\b50[234]\b"),
         "Azure could not be reached ({doing}).",
         "Check the network connection (and any proxy), wait a minute and run the step again."),
)


def _text(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    for attr in ("message", "inner_exception", "response_message"):
        value = getattr(exc, attr, None)
        if value is not None and str(value) not in parts[0]:
            parts.append(str(value))
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        parts.append(f"{type(cause).__name__}: {cause}")
    return "\n".join(parts)


def explain(exc: BaseException, doing: str, context: dict[str, Any] | None = None) -> TutorError:
    """A TutorError for ``exc``, raised while ``doing`` (e.g. "creating the cluster 'c1'")."""
    if isinstance(exc, TutorError):
        return exc
    values = {"doing": doing, "workspace": "?", "subscription": "?", "resource_group": "?"}
    values.update({k: v for k, v in (context or {}).items() if v})
    text = _text(exc)
    for rule in RULES:
        if any(re.search(pattern, text, re.IGNORECASE | re.DOTALL) for pattern in rule.patterns):
            return TutorError(rule.what.format(**values), rule.fix.format(**values), detail=text)
    message = getattr(exc, "message", None)
    message = str(message if isinstance(message, str) and message.strip() else exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    if len(first) > 300:
        first = first[:297] + "..."
    return TutorError(
        f"Azure ML failed while {doing}: {first}",
        "Run the step again; if it keeps failing, the tutor's log (.tutor/logs/tutor.log) has Azure's full answer.",
        detail=text,
    )


def is_not_found(exc: BaseException) -> bool:
    """Whether ``exc`` is the SDK saying a named thing does not exist (a 404)."""
    if getattr(exc, "status_code", None) == 404:
        return True
    response = getattr(exc, "response", None)
    if getattr(response, "status_code", None) == 404:
        return True
    text = _text(exc)
    return bool(re.search(
        r"\b404\b|not ?found|does not exist|Cannot find|could not be found|No such|ResourceNotFound"
        r"|ComputeTargetNotFound|WebserviceNotFound|ModelNotFound|no registered|Could not find",
        text, re.IGNORECASE))
