# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which cluster a task writes to, with the lab's environment set as a user's shell has it.

`source lab-state/lab.env` exports OCHAMI_CONFIG (clusters ``lab`` and ``lab2``), OPENCHAMI_CLUSTER=lab and
the tokens. An explicit ``cluster_uri`` naming the second SMD (``lab2``) used to be ignored: the write went to
``lab``'s SMD with rc=0. Every row of the precedence table is covered by the unit tests
(tests/unit/plugins/module_utils/test_connection.py); these run the real modules and plugin on the real SMDs.
"""

from __future__ import annotations

import pytest

from test_smd_modules import run_task

NODE = {"ID": "x3000c0s9b0n0", "State": "Ready", "Role": "Compute", "NID": 9009}


def ids(lab, service):
    response = lab.api(service, "GET", "/State/Components")
    response.raise_for_status()
    return sorted(c["ID"] for c in response.json()["Components"])


@pytest.fixture
def two_smds(lab):
    """Neither SMD holds NODE before or after the test."""
    def clean():
        for service in ("smd", "smd2"):
            lab.api(service, "DELETE", "/State/Components/" + NODE["ID"])
    clean()
    yield lab
    clean()


def test_explicit_cluster_uri_wins_over_the_environment(two_smds):
    lab = two_smds
    result, proc = run_task(lab, "smd_component", {"components": [NODE], "cluster_uri": lab.urls["smd2"]})
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert NODE["ID"] in ids(lab, "smd2")
    assert NODE["ID"] not in ids(lab, "smd")
    # the user is told that the environment's cluster was not used
    assert "cluster 'lab' of the ochami configuration" in proc.stdout + proc.stderr
    assert "is ignored" in proc.stdout + proc.stderr


def test_explicit_options_that_disagree_fail_before_any_write(two_smds):
    lab = two_smds
    before = (ids(lab, "smd"), ids(lab, "smd2"))
    result, _proc = run_task(lab, "smd_component", {"components": [NODE], "cluster": "lab",
                                                    "cluster_uri": lab.urls["smd2"]})
    assert result["failed"] is True
    assert "option cluster_uri=%s" % lab.urls["smd2"] in result["msg"]
    assert "cluster 'lab' of the ochami configuration" in result["msg"]
    assert (ids(lab, "smd"), ids(lab, "smd2")) == before


def test_inventory_source_uri_wins_over_the_environment(two_smds):
    lab = two_smds
    lab.api("smd2", "POST", "/State/Components", json={"Components": [NODE]}).raise_for_status()
    inventory = lab.run_inventory({"plugin": "cscs.openchami.smd", "cluster_uri": lab.urls["smd2"],
                                   "token_file": str(lab.state / "access-token")})
    hosts = inventory["_meta"]["hostvars"]
    assert sorted(hosts) == ids(lab, "smd2")
    assert NODE["ID"] in hosts
