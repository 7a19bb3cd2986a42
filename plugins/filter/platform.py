"""Filter over the supported platforms: a thin wrapper around module_utils/_platform.py.

Documentation lives in the sidecar ``platform_errors.yml`` next to this file.
"""

from ansible_collections.partnermail.links.plugins.module_utils import _platform


def platform_errors(facts, host):
    return _platform.platform_errors(host, facts)


class FilterModule:
    """partnermail.links platform filter."""

    def filters(self):
        return {"platform_errors": platform_errors}
