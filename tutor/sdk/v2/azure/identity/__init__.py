"""``azure.identity`` on the embedded workspace: the credentials the course passes to ``MLClient``.

The embedded workspace has no sign-in, so each credential is accepted as given and never asks
for a token; ``get_token`` says why instead of pretending to have one. On Azure the real
azure-identity signs in.
"""

from __future__ import annotations

__all__ = ["AzureCliCredential", "DefaultAzureCredential", "InteractiveBrowserCredential"]

__embedded__ = True


class _Credential:
    def __init__(self, **kwargs):
        self._options = dict(kwargs)

    def get_token(self, *scopes, claims=None, tenant_id=None, **kwargs):
        from azure.core.exceptions import ClientAuthenticationError

        raise ClientAuthenticationError(
            f"{type(self).__name__} has no token on the embedded workspace: it needs no sign-in, and "
            "MLClient uses none. On Azure, the real azure-identity signs you in.")

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DefaultAzureCredential(_Credential):
    """The credential chain azure-identity tries in turn (environment, managed identity, CLI...)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


class InteractiveBrowserCredential(_Credential):
    """A sign-in in the browser."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def get_token(self, *scopes, claims=None, tenant_id=None, enable_cae=False, **kwargs):
        return super().get_token(*scopes, claims=claims, tenant_id=tenant_id, **kwargs)


class AzureCliCredential(_Credential):
    """The account ``az login`` signed in."""

    def __init__(self, *, tenant_id='', subscription=None, additionally_allowed_tenants=None, process_timeout=10):
        super().__init__(tenant_id=tenant_id, subscription=subscription)
