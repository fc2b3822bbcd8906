# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers recorded from the lab's real SMD, replayed to the unit tests by a scripted server.

Each scenario below drives the SMD client (module_utils/smd.py), the discovery planner or the inventory plugin
as a module would. Recorded once against the real SMD of the lab (through a recording proxy), its exchanges are
kept as fixtures in ``tests/unit/plugins/module_utils/fixtures/smd/<scenario>.json``; the unit tests run the same
scenario against :class:`Replay`, which answers each request with what SMD answered to the same request (method,
path with query, JSON body), and fails the test on a request SMD was never asked.

Re-record all scenarios (the lab's SMD up, ``source lab-state/lab.env`` for ``SMD_URL`` and ``ACCESS_TOKEN``),
from the repository root::

    .venv/bin/python tests/unit/utils/smd_replay.py

Each scenario starts by emptying SMD (all components, interfaces, endpoints, groups and partitions): record
against the lab only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins", "module_utils", "fixtures", "smd")


def canonical(body):
    """A request body in the form two recordings compare in: JSON with sorted keys, lists of scalars sorted
    (bulk bodies list ids in an order that may follow Python's set order)."""
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return body

    def norm(value):
        if isinstance(value, dict):
            return dict((k, norm(v)) for k, v in value.items())
        if isinstance(value, list):
            items = [norm(v) for v in value]
            if all(isinstance(v, (str, int, float, bool)) or v is None for v in items):
                return sorted(items, key=repr)
            return items
        return value
    return json.dumps(norm(data), sort_keys=True)


class _Server:
    """A loopback HTTP server whose handler calls ``self.answer(method, path, body, headers)``."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                status, text = server.answer(self.command, self.path, body, dict(self.headers))
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.lock = threading.Lock()

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class Replay(_Server):
    """Answers what SMD answered to the same request; ``unexpected`` lists requests no recording has."""

    def __init__(self, scenario):
        super(Replay, self).__init__()
        with open(os.path.join(FIXTURES, scenario + ".json")) as handle:
            self.recording = json.load(handle)
        self.queues = {}
        for exchange in self.recording["exchanges"]:
            key = (exchange["method"], exchange["path"], canonical(exchange["body"]))
            self.queues.setdefault(key, []).append(exchange)
        self.unexpected = []
        self.served = []

    def answer(self, method, path, body, headers):
        key = (method, path, canonical(body))
        with self.lock:
            queue = self.queues.get(key)
            if not queue:
                self.unexpected.append("%s %s %s" % key)
                return 599, json.dumps({"detail": "no recorded SMD answer for %s %s %s" % key})
            exchange = queue.pop(0) if len(queue) > 1 else queue[0]  # the last answer stays for repeats
            self.served.append("%s %s" % (method, path))
        return exchange["status"], exchange["answer"]


class Recorder(_Server):
    """Forwards every request to the real SMD and records the exchange."""

    def __init__(self, target):
        super(Recorder, self).__init__()
        import requests  # only the recorder needs it outside the collection's transport
        self.session = requests.Session()
        self.target = target.rstrip("/")
        self.exchanges = []

    def answer(self, method, path, body, headers):
        forward = dict((k, v) for k, v in headers.items() if k.lower() in ("authorization", "content-type", "accept"))
        response = self.session.request(method, self.target + path, data=body.encode("utf-8") or None,
                                        headers=forward, timeout=60)
        with self.lock:
            self.exchanges.append({"method": method, "path": path, "body": body, "status": response.status_code,
                                   "answer": response.text})
        return response.status_code, response.text


# ---------------------------------------------------------------- the scenarios (shared by recorder and tests)

NODES = ["x3000c0s1b0n0", "x3000c0s1b0n1", "x3000c0s2b0n0"]


def _api(url, token):
    from ansible_collections.cscs.openchami.plugins.module_utils import smd, transport
    from ansible_collections.cscs.openchami.plugins.module_utils.auth import TokenAuth
    return smd.SMD(transport.Client(url + "/hsm/v2", auth=TokenAuth(token=token) if token else None, retries=0),
                   workers=1)


def empty(api):
    """Delete everything the scenarios write (the recorder's first step; replayed like the rest)."""
    for path in ("/State/Components", "/Inventory/EthernetInterfaces", "/Inventory/RedfishEndpoints"):
        api.client.delete(path, expect=(200, 204, 404))
    for group in api.groups():
        api.client.delete("/groups/%s" % group["label"], expect=(200, 204, 404))
    for partition in api.partitions():
        api.client.delete("/partitions/%s" % partition["name"], expect=(200, 204, 404))


def components(api):
    """Create three nodes, change two of them with the bulk endpoints, look for a missing one, delete one."""
    from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd
    out = {}
    desired = [{"ID": NODES[0], "State": "Ready", "Role": "Compute", "NID": 1},
               {"ID": NODES[1], "State": "Ready", "Role": "Compute", "NID": 2},
               {"ID": NODES[2], "State": "Ready", "Role": "Service", "NID": 3}]
    plan = resource.plan(desired, api.components(id=NODES), "ID")
    resource.apply(plan, create=lambda changes: api.upsert_components([c.after for c in changes]))
    out["created"] = plan.summary()
    out["after_create"] = api.components(id=NODES)
    update = [{"ID": NODES[0], "State": "Off", "Enabled": False},
              {"ID": NODES[1], "State": "Off", "Enabled": False, "NID": 12},
              {"ID": NODES[2], "State": "Ready"}]
    plan = resource.plan(update, api.components(id=NODES), "ID", normalizers={"State": str.lower})
    resource.apply(plan, update=api.update_components)
    out["updated"] = plan.summary()
    out["after_update"] = api.components(id=NODES)
    out["missing"] = api.missing_components([NODES[0], "x3000c0s9b0n0"])
    try:
        smd.check_service_values(api, [{"ID": NODES[0], "Role": "NoSuchRole"}])
        out["bad_role"] = None
    except resource.ValidationError as exc:
        out["bad_role"] = str(exc)
    api.delete_components([NODES[2]])
    out["after_delete"] = sorted(c["ID"] for c in api.components())
    return out


def interfaces(api):
    """Interfaces created, unchanged on a re-run, an IP changed, one deleted."""
    from ansible_collections.cscs.openchami.plugins.module_utils import smd
    api.upsert_components([{"ID": NODES[0], "State": "Ready"}])
    wanted = [{"MACAddress": "02:00:00:00:00:01", "ComponentID": NODES[0], "Description": "mgmt",
               "IPAddresses": [{"IPAddress": "10.1.0.1", "Network": "mgmt"}]},
              {"MACAddress": "02:00:00:00:00:02", "ComponentID": NODES[0], "Description": "hsn",
               "IPAddresses": []}]
    out = {"created": smd.apply_interfaces(api, [dict(w) for w in wanted]).summary()}
    out["again"] = smd.apply_interfaces(api, [dict(w) for w in wanted]).summary()
    changed = [dict(wanted[0], IPAddresses=[{"IPAddress": "10.1.0.9", "Network": "mgmt"}])]
    plan = smd.apply_interfaces(api, changed)
    out["changed"], out["diff"] = plan.summary(), plan.diff()
    out["deleted"] = smd.apply_interfaces(api, [{"MACAddress": "02:00:00:00:00:02"}], state="absent").summary()
    out["dump"] = smd.dump(api, ["interfaces"])["interfaces"]
    return out


def groups(api):
    """Groups and a partition through plan_sets: create, add and remove members, an unknown member, an
    exclusive-group clash."""
    from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd
    api.upsert_components([{"ID": n, "State": "Ready"} for n in NODES])
    out = {}
    plan = smd.plan_sets(api, smd.GROUPS, [
        {"label": "compute", "description": "compute nodes", "tags": ["a"], "members": NODES[:2],
         "exclusive_group": "role"},
        {"label": "service", "members": [NODES[2]], "exclusive_group": "role"}])
    out["created"] = plan.summary()
    out["added"] = smd.plan_sets(api, smd.GROUPS, [{"label": "service", "members": [NODES[0]]}],
                                 members_mode="remove").summary()
    out["again"] = smd.plan_sets(api, smd.GROUPS, [{"label": "service", "members": [NODES[2]]}],
                                 members_mode="add").summary()
    for name, items in (("unknown_member", [{"label": "compute", "members": ["x3000c0s7b0n0"]}]),
                        ("exclusive_clash", [{"label": "service", "members": [NODES[0]]}])):
        try:
            smd.plan_sets(api, smd.GROUPS, items, members_mode="add")
            out[name] = None
        except resource.ValidationError as exc:
            out[name] = str(exc)
    out["partition"] = smd.plan_sets(api, smd.PARTITIONS, [{"name": "p1", "members": NODES[:1]}]).summary()
    out["dump"] = smd.dump(api, ["groups", "partitions"])
    return out


def endpoints(api):
    """Redfish endpoints: created, a password not rewritten (on_create), then rewritten (always); BMC components
    and NID collisions of the discovery planner."""
    from ansible_collections.cscs.openchami.plugins.module_utils import bmc_discovery, smd
    endpoint = {"ID": "x3000c0s1b0", "FQDN": "x3000c0s1b0.example", "User": "root", "Password": "first-secret",
                "Enabled": False}
    out = {"created": smd.endpoint_result(smd.apply_redfish_endpoints(api, [dict(endpoint)]))}
    new_password = dict(endpoint, Password="second-secret")
    out["on_create"] = smd.apply_redfish_endpoints(api, [dict(new_password)]).summary()
    out["always"] = smd.apply_redfish_endpoints(api, [dict(new_password)], update_password="always").summary()
    out["bmc_components"] = bmc_discovery.apply_bmc_components(api, ["x3000c0b0"], False).summary()
    out["bmc_components_again"] = bmc_discovery.apply_bmc_components(api, ["x3000c0b0"], False).summary()
    api.upsert_components([{"ID": NODES[0], "State": "Ready", "NID": 7}, {"ID": NODES[1], "State": "Ready", "NID": 7},
                           {"ID": NODES[2], "State": "Ready", "NID": 8}])
    out["nid_collisions"] = bmc_discovery.nid_collisions(api, [NODES[0]])
    out["dump"] = smd.dump(api, ["redfish_endpoints", "components"])
    return out


def inventory(api):
    """What the inventory plugin reads: components with interfaces, groups and a partition."""
    from ansible_collections.cscs.openchami.plugins.module_utils import smd
    api.upsert_components([{"ID": NODES[0], "State": "Ready", "Role": "Compute", "NID": 1, "Arch": "X86"},
                           {"ID": NODES[1], "State": "Off", "Role": "Compute", "NID": 2, "Arch": "ARM"},
                           {"ID": NODES[2], "State": "Ready", "Role": "Service", "NID": 3}])
    api.create_interfaces([{"MACAddress": "02:00:00:00:01:%02x" % i, "ComponentID": n, "Description": "mgmt",
                            "IPAddresses": [{"IPAddress": "10.2.0.%d" % (i + 1), "Network": "mgmt"}]}
                           for i, n in enumerate(NODES)])
    smd.plan_sets(api, smd.GROUPS, [{"label": "gpu", "members": [NODES[1]]}])
    smd.plan_sets(api, smd.PARTITIONS, [{"name": "p2", "members": NODES[:2]}])
    return {}


SCENARIOS = {"components": components, "interfaces": interfaces, "groups": groups, "endpoints": endpoints,
             "inventory": inventory}


def run(name, url, token=None):
    """Run scenario ``name`` against SMD at ``url`` (a replay or, recording, the proxy): empty SMD, then act."""
    api = _api(url, token)
    empty(api)
    return SCENARIOS[name](api)


def inventory_reads(url, collections, token=None):
    """``ansible-inventory --list`` of the inventory plugin pointed at ``url`` (the whole plugin, as a user runs
    it); ``collections`` holds ansible_collections/cscs/openchami. Returns (parsed output, the process)."""
    import subprocess
    import tempfile
    folder = tempfile.mkdtemp(prefix="smd-inventory-")
    source = os.path.join(folder, "replay.smd.yml")
    with open(source, "w") as handle:
        handle.write("plugin: cscs.openchami.smd\nservice_uris: {smd: %s/hsm/v2}\nretries: 0\n"
                     "host_vars: [all]\n"
                     "groups: {compute_nodes: \"smd_role == 'Compute'\"}\n" % url)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_INVENTORY_ENABLED="auto",
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)  # ansible-test units narrows it to the collection; the CLI needs the whole ansible
    for name in ("ACCESS_TOKEN", "OPENCHAMI_CLUSTER", "OCHAMI_CONFIG", "SMD_URL"):
        env.pop(name, None)
    if token:
        env["ACCESS_TOKEN"] = token
    proc = subprocess.run([os.path.join(bindir, "ansible-inventory"), "-i", source, "--list"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    try:
        return json.loads(proc.stdout), proc
    except ValueError:
        return None, proc


def record(url, token, collections, names=None):
    """Record every scenario (or ``names``) against the real SMD at ``url``; writes the fixtures."""
    import datetime
    if not os.path.isdir(FIXTURES):
        os.makedirs(FIXTURES)
    for name in names or sorted(SCENARIOS):
        with Recorder(url) as proxy:
            run(name, proxy.url, token)
            if name == "inventory":
                data, proc = inventory_reads(proxy.url, collections, token)
                if data is None:
                    sys.exit("ansible-inventory failed: %s" % proc.stderr)
        version = _smd_version(url, token)
        with open(os.path.join(FIXTURES, name + ".json"), "w") as handle:
            json.dump({"recorded_from": "SMD %s (the lab's, lab/versions.yml)" % version,
                       "recorded_at": datetime.date.today().isoformat(),
                       "re_record": "tests/unit/utils/smd_replay.py (see its docstring)",
                       "exchanges": proxy.exchanges}, handle, indent=1, sort_keys=True)
            handle.write("\n")
        print("%s: %d exchanges" % (name, len(proxy.exchanges)))


def _smd_version(url, token):
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    try:
        with open(os.path.join(root, "lab", "versions.yml")) as handle:
            text = handle.read()
        block = text[text.index("smd:"):]
        return next(line.split(":", 1)[1].strip() for line in block.splitlines() if "version:" in line)
    except (OSError, ValueError, StopIteration):
        return "(version unknown)"


def main(argv):
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
    from tests.unit.utils.ansible_output import collections_path  # the repository root is on sys.path now
    top = collections_path(prefix="smd-replay-")
    sys.path.insert(0, top)
    url, token = os.environ.get("SMD_URL"), os.environ.get("ACCESS_TOKEN")
    if not url:
        sys.exit("SMD_URL is not set: bring the lab up and `source lab-state/lab.env` (see this file's docstring)")
    record(url.rstrip("/").rsplit("/hsm/v2", 1)[0], token, top, argv[1:] or None)


if __name__ == "__main__":
    main(sys.argv)
