"""The test suite's own machinery: what the expensive modules rely on."""

from __future__ import annotations

import os

import pytest


@pytest.mark.xdist_group("suite-setup")
def test_xdist_groups_hold_under_loadgroup(request):
    """Modules that share a whole build through a module fixture are marked xdist_group.

    `make test` runs `pytest -n 2 --dist loadgroup`: xdist then suffixes the node id with the
    group and sends the group to one worker. With pytest 9 and xdist 3.8 the suffix was
    silently dropped, the groups spread over both workers and every such module built twice
    (and the kill test lost its state). Without xdist or loadgroup there is nothing to hold.
    """
    # a worker's config has option.loadgroup (set by xdist from the controller's --dist)
    if not (os.environ.get("PYTEST_XDIST_WORKER")
            and getattr(request.config.option, "loadgroup", False)):
        pytest.skip("not running under pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith("@suite-setup"), request.node.nodeid
