# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import resource as r

CURRENT = [
    {"ID": "x1000c0s0b0n0", "State": "On", "Role": "Compute", "NID": 1, "Arch": "X86"},
    {"ID": "x1000c0s0b0n1", "State": "Off", "Role": "Compute", "NID": 2, "Arch": "X86"},
]


class Recorder:
    def __init__(self):
        self.calls = []

    def op(self, name):
        def call(items):
            self.calls.append((name, [c.key for c in items]))
        return call


def test_plan_create_update_unchanged():
    desired = [
        {"ID": "x1000c0s0b0n0", "State": "On"},                 # unchanged
        {"ID": "x1000c0s0b0n1", "Role": "Service"},             # update one field
        {"ID": "x1000c0s0b0n2", "State": "Off", "NID": 3},      # create
    ]
    p = r.plan(desired, CURRENT, "ID")
    assert p.summary() == {"create": 1, "update": 1, "delete": 0, "unchanged": 1}
    upd = p.of(r.UPDATE)[0]
    assert upd.changes == {"Role": "Service"}
    # unmanaged fields of the updated item are kept as they are
    assert upd.after == {"ID": "x1000c0s0b0n1", "State": "Off", "Role": "Service", "NID": 2, "Arch": "X86"}
    assert p.changed


def test_second_run_is_unchanged():
    p = r.plan([{"ID": "x1000c0s0b0n0", "State": "On", "NID": 1}], CURRENT, "ID")
    assert not p.changed
    assert p.diff() == {"before": {}, "after": {}}


def test_none_values_are_not_managed():
    p = r.plan([{"ID": "x1000c0s0b0n0", "State": None, "Role": None}], CURRENT, "ID")
    assert not p.changed


def test_state_absent_deletes_only_existing():
    p = r.plan([{"ID": "x1000c0s0b0n1"}, {"ID": "x9c0s0b0n0"}], CURRENT, "ID", state="absent")
    assert [(c.key, c.action) for c in p.changes] == [("x1000c0s0b0n1", r.DELETE)]


def test_purge_deletes_what_is_not_desired():
    p = r.plan([{"ID": "x1000c0s0b0n0"}], CURRENT, "ID", purge=True)
    assert p.summary()["delete"] == 1
    assert p.of(r.DELETE)[0].key == "x1000c0s0b0n1"


def test_normalisers_mac_and_unordered_lists():
    current = [{"MACAddress": "aa:bb:cc:dd:ee:ff", "IPs": ["10.0.0.2", "10.0.0.1"]}]
    desired = [{"MACAddress": "aa:bb:cc:dd:ee:ff", "IPs": ["10.0.0.1", "10.0.0.2", "10.0.0.1"]}]
    p = r.plan(desired, current, "MACAddress", normalizers={"IPs": r.unordered})
    assert not p.changed
    p = r.plan(desired, current, "MACAddress")
    assert p.changed


def test_normalize_mac_forms_and_errors():
    for form in ("AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff", "AABBCCDDEEFF"):
        assert r.normalize_mac(form) == "aa:bb:cc:dd:ee:ff"
    with pytest.raises(ValueError, match="invalid MAC address 'aa:bb:cc'"):
        r.normalize_mac("aa:bb:cc")
    with pytest.raises(ValueError):
        r.normalize_mac(12)


def test_duplicate_identity_in_desired_is_rejected():
    with pytest.raises(r.ValidationError, match="x1 appears more than once"):
        r.plan([{"ID": "x1"}, {"ID": "x1"}], [], "ID")


def test_apply_calls_bulk_operations_once_each_in_order():
    rec = Recorder()
    desired = [{"ID": "x1000c0s0b0n1", "Role": "Service"}, {"ID": "a"}, {"ID": "b"}]
    p = r.plan(desired, CURRENT, "ID", purge=True)
    r.apply(p, create=rec.op("create"), update=rec.op("update"), delete=rec.op("delete"))
    assert rec.calls == [("delete", ["x1000c0s0b0n0"]), ("create", ["a", "b"]), ("update", ["x1000c0s0b0n1"])]


def test_check_mode_writes_nothing_but_reports_the_same_plan():
    rec = Recorder()
    p = r.plan([{"ID": "new"}], CURRENT, "ID")
    r.apply(p, check_mode=True, create=rec.op("create"))
    assert rec.calls == []
    assert p.changed and p.summary()["create"] == 1


def test_missing_operation_is_an_error():
    with pytest.raises(ValueError, match="delete is not supported"):
        r.apply(r.plan([{"ID": "x1000c0s0b0n0"}], CURRENT, "ID", state="absent"))


def test_diff_shows_only_changed_fields():
    p = r.plan([{"ID": "x1000c0s0b0n1", "Role": "Service"}, {"ID": "n", "State": "On"}], CURRENT, "ID")
    assert p.diff() == {
        "before": {"x1000c0s0b0n1": {"Role": "Compute"}},
        "after": {"x1000c0s0b0n1": {"Role": "Service"}, "n": {"ID": "n", "State": "On"}},
    }


def test_diff_is_bounded_for_thousands_of_items():
    desired = [{"ID": "x%dc0s0b0n0" % i, "State": "On"} for i in range(5000)]
    p = r.plan(desired, [], "ID")
    d = p.diff(limit=50)
    assert len(d["after"]) == 51
    assert d["after"]["..."] == "4950 more changed items not shown (create 5000, update 0, delete 0 in all)"


def test_converged_plan_at_scale_changes_nothing_and_keeps_unmanaged_fields():
    current = [{"ID": "x%dc0s0b0n0" % i, "State": "On", "Role": "Compute", "NID": i} for i in range(20000)]
    desired = [{"ID": "x%dc0s0b0n0" % i, "State": "On", "NID": i} for i in range(20000)]
    p = r.plan(desired, current, "ID")
    assert not p.changed
    assert p.summary()["unchanged"] == 20000
    assert p.resources(changed_only=False)[-1] == current[-1]


def test_result_shape():
    p = r.plan([{"ID": "n"}], [], "ID")
    out = r.result(p, components=p.resources())
    assert out["changed"] is True
    assert out["summary"]["create"] == 1
    assert out["components"] == [{"ID": "n"}]


def test_custom_merge():
    p = r.plan([{"label": "g", "members": ["a"]}], [{"label": "g", "members": ["b"]}], "label",
               merge=lambda cur, des: {"label": "g", "members": sorted(set(cur["members"]) | set(des["members"]))})
    assert p.of(r.UPDATE)[0].after["members"] == ["a", "b"]


# ---------------------------------------------------------------- one spec per resource

def _positive(value):
    if value < 1:
        raise ValueError("must be at least 1, got %d" % value)
    return value


SPEC = r.Spec(
    r.Field("name", identity=True, required=True),
    r.Field("nid_length", "nid-length", type="int", check=_positive),
    r.Field("password", "Password", no_log=True),
    r.Field("keys", "public-keys", type="list", elements="str", compare=r.unordered),
)


def test_spec_gives_the_argument_spec_with_no_log_said_for_every_option():
    spec = SPEC.argument_spec()
    assert spec["name"] == {"type": "str", "required": True, "no_log": False}
    assert spec["password"]["no_log"] is True and spec["keys"]["no_log"] is False
    assert SPEC.key == "name" and SPEC.normalizers() == {"public-keys": r.unordered}


def test_spec_maps_options_to_api_fields_and_names_every_bad_item():
    assert SPEC.desired([{"name": "a", "nid_length": 4, "keys": None}]) == [{"name": "a", "nid-length": 4}]
    with pytest.raises(r.ValidationError) as err:
        SPEC.desired([{"name": "a", "nid_length": 0}, {"name": "b"}, {"name": "c", "nid_length": -1}], what="group")
    assert err.value.errors == ["group a: nid_length: must be at least 1, got 0",
                                "group c: nid_length: must be at least 1, got -1"]
    # an item without its identity is named by its place
    with pytest.raises(r.ValidationError, match=r"group 1: nid_length: must be at least 1"):
        SPEC.desired([{"name": "a"}, {"nid_length": 0}], what="group")
    # API items (a planner's) are checked alike, named by the options, and keep their other fields
    assert SPEC.check([{"name": "a", "nid-length": 4, "x": 1}]) == [{"name": "a", "nid-length": 4, "x": 1}]
    with pytest.raises(r.ValidationError, match=r"endpoint b: nid_length: must be at least 1, got 0"):
        SPEC.check([{"name": "b", "nid-length": 0}], what="endpoint")
    with pytest.raises(r.ValidationError, match=r"nothing was changed: nid_length: must be at least 1"):
        SPEC.desired([{"nid_length": 0}], what=None)
    assert SPEC.public({"name": "a", "Password": "s3cret"}) == {"name": "a"}


def test_singleton_plan_compares_only_given_fields_and_has_a_flat_diff():
    current = {"cluster-name": "old", "nid-length": 4, "public-keys": ["b", "a"]}
    p = r.plan_singleton({"cluster-name": "new", "public-keys": ["a", "b"]}, current, {"public-keys": r.unordered})
    assert p.changed and p.summary()["update"] == 1
    assert p.diff() == {"before": {"cluster-name": "old"}, "after": {"cluster-name": "new"}}
    assert p.after == {"cluster-name": "new", "nid-length": 4, "public-keys": ["a", "b"]}
    same = r.plan_singleton({"nid-length": 4}, current)
    assert not same.changed and same.diff() == {"before": {}, "after": {}}


def test_action_target_acts_where_the_state_differs_or_where_told():
    expected = {"name": "n0", "status": "ok", "changed": True, "before": "On", "after": "Off"}
    assert r.target("On", "Off", name="n0") == expected
    assert r.target("Off", "Off", name="n1")["changed"] is False
    # a restart acts on a node that is on and ends on; a node left alone keeps its state as after
    assert r.target("On", "On", acts=True)["changed"] is True
    assert r.target("On", "Off", acts=False)["after"] == "On"


def test_carry_out_writes_nothing_in_check_mode_and_takes_what_the_write_reports():
    def planned():
        return [r.target("On", "Off", name="n0"), r.target("Off", "Off", name="n1"),
                r.target("On", "Off", name="n2", method="reset")]
    calls = []

    def write(acting):
        calls.append([t["name"] for t in acting])
        return [{"after": "Off", "reset_type": "ForceOff"}, {"status": "failed", "message": "BMC gone"}]
    checked = r.carry_out(planned(), True, write)
    assert calls == [] and [t["after"] for t in checked] == ["Off", "Off", "Off"]
    done = r.carry_out(planned(), False, write)
    assert calls == [["n0", "n2"]]  # one write for all acting targets, the others left out
    assert done[0] == {"name": "n0", "status": "ok", "changed": True, "before": "On", "after": "Off",
                       "reset_type": "ForceOff"}
    assert done[1] == {"name": "n1", "status": "ok", "changed": False, "before": "Off", "after": "Off"}
    # a write that does not say where the target ended leaves no prediction behind
    assert done[2] == {"name": "n2", "status": "failed", "changed": True, "before": "On", "method": "reset",
                       "message": "BMC gone"}
    assert r.carry_out([r.target("Off", "Off")], False, write) and len(calls) == 1  # nothing acts: no write


def test_act_is_carry_out_of_one_target():
    sent = []
    assert r.act("On", "Off", True, lambda: sent.append(1))["after"] == "Off" and sent == []
    assert r.act("On", "Off", False, lambda: {"after": "Off", "reset_type": "ForceOff"})["reset_type"] == "ForceOff"
    assert r.act("Off", "Off", False, lambda: sent.append(1))["changed"] is False and sent == []


def test_action_plan_gives_changed_diff_and_counts_by_status():
    results = [r.target("On", "Off", name="n0"), r.target("Off", "Off", name="n1"),
               dict(r.target("Off", "On", name="n2"), status="timeout", after="Off", message="still Off")]
    p = r.plan_actions(results)
    assert p.changed and p.resources() == results
    assert p.summary() == {"ok": 2, "timeout": 1, "changed": 2}
    assert p.diff() == {"before": {"n0": "On", "n2": "Off"}, "after": {"n0": "Off", "n2": "Off"}}
    assert p.diff(limit=1) == {"before": {"n0": "On"}, "after": {"n0": "Off"}}
    assert [f["name"] for f in p.failed()] == ["n2"]
    assert r.result(p)["changed"] is True
    idle = r.plan_actions([("n0", "On", "On"), ("n1", "Off", "Off")])  # (name, before, after) tuples
    assert not idle.changed and idle.diff() == {"before": {}, "after": {}}
    assert idle.summary() == {"ok": 2, "changed": 0} and idle.failed() == []


def test_diff_of_long_lists_shows_what_leaves_and_what_comes():
    before = ["n%03d" % i for i in range(300)]
    after = before[5:] + ["new%d" % i for i in range(3)]
    the_plan = r.plan([{"label": "g", "members": after}], [{"label": "g", "members": before}], "label")
    diff = the_plan.diff(limit=100)
    assert diff["before"]["g"]["members"] == before[:5] + ["... 295 entries in both not shown"]
    assert diff["after"]["g"]["members"] == ["new0", "new1", "new2", "... 295 entries in both not shown"]
    short = r.plan([{"label": "g", "members": ["a", "b"]}], [{"label": "g", "members": ["a"]}], "label").diff()
    assert short["after"]["g"]["members"] == ["a", "b"]          # short lists stay whole
    created = r.plan([{"label": "h", "members": before}], [], "label").diff(limit=100)["after"]["h"]["members"]
    assert len(created) == 101 and created[-1] == "... 200 more not shown (300 in all)"
