# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet view: per OpenCHAMI instance, reachable or not, service versions, node counts, drift against its spec;
rendered as Markdown, a self-contained HTML page and Prometheus' text exposition format."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html

from ansible_collections.cscs.openchami.plugins.module_utils import boot, cluster, cluster_spec, resource
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

ACTIONS = ("create", "update", "delete", "not_in_spec")


def status(name, instance, spec=None):
    """What the fleet report says about one instance. ``spec`` is a loaded spec (or None: no drift is computed).

    Never raises for a service problem: an unreachable SMD gives ``reachable: false`` and its error."""
    out = {"name": name, "reachable": False, "error": None, "versions": {},
           "nodes": {"total": 0, "by_state": {}, "by_role": {}}, "drift": None}
    try:
        smd_client = instance.get_client("smd") if instance is not None else None
        if smd_client is None:
            raise ApiError("no address for SMD")
        answer, error = boot.probe(smd_client, "/service/ready")
        if answer is None:
            raise error
        out["reachable"] = True
        out["versions"] = cluster.service_versions(instance.get_client)
        out["nodes"] = node_counts(instance.smd.components(type="Node"))
    except ApiError as exc:
        out["error"] = str(exc)
        return out
    if spec is not None:
        out["drift"] = drift(instance, spec)
    return out


def node_counts(nodes):
    by_state, by_role = {}, {}
    for node in nodes:
        state, role = node.get("State") or "Unknown", node.get("Role") or "None"
        by_state[state] = by_state.get(state, 0) + 1
        by_role[role] = by_role.get(role, 0) + 1
    return {"total": len(nodes), "by_state": by_state, "by_role": by_role}


def drift(instance, spec):
    """{in_sync, summary, changes, error}: the plan of ``spec`` against the instance, without prune."""
    try:
        the_plan = cluster.plan(instance, cluster_spec.expand(spec), prune=False)
    except (resource.ValidationError, ApiError) as exc:
        return {"in_sync": None, "summary": {}, "changes": 0, "error": str(exc)}
    summary = the_plan.summary()
    changes = sum(counts[a] for counts in summary.values() for a in ACTIONS)
    return {"in_sync": changes == 0, "summary": summary, "changes": changes, "error": None}


# ---------------------------------------------------------------- reports

def _drift_text(item):
    found = item.get("drift")
    if not item["reachable"]:
        return "unknown (down)"
    if found is None:
        return "no spec"
    if found["error"]:
        return "error: " + found["error"]
    if found["in_sync"]:
        return "in sync"
    parts = []
    for kind, counts in found["summary"].items():
        bits = ["%s %d" % (a.replace("_", " "), counts[a]) for a in ACTIONS if counts[a]]
        if bits:
            parts.append("%s: %s" % (kind, ", ".join(bits)))
    return "; ".join(parts)


def _counts_text(counts):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items())) or "-"


def _versions_text(versions):
    return ", ".join("%s %s" % (k, v) for k, v in sorted(versions.items())) or "-"


def rows(report):
    """The table every report shows: one row per instance."""
    out = []
    for item in report:
        out.append([item["name"], "up" if item["reachable"] else "DOWN", _versions_text(item["versions"]),
                    str(item["nodes"]["total"]), _counts_text(item["nodes"]["by_state"]),
                    _counts_text(item["nodes"]["by_role"]), _drift_text(item)])
    return out


HEADERS = ["instance", "status", "versions", "nodes", "by state", "by role", "drift against spec"]


def markdown(report, title="OpenCHAMI fleet"):
    lines = ["# %s" % title, "", "| %s |" % " | ".join(HEADERS), "|%s|" % "|".join("---" for _h in HEADERS)]
    for row in rows(report):
        lines.append("| %s |" % " | ".join(cell.replace("|", "\\|") for cell in row))
    errors = [(i["name"], i["error"]) for i in report if i["error"]]
    if errors:
        lines += ["", "## Errors", ""] + ["- **%s**: %s" % (name, error) for name, error in errors]
    return "\n".join(lines) + "\n"


_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
          "th,td{border:1px solid #bbb;padding:.4em .7em;text-align:left;vertical-align:top}"
          "th{background:#eee}.up{color:#176317;font-weight:bold}.down{color:#b00;font-weight:bold}"
          ".sync{color:#176317}.drift{color:#8a5a00}")


def html_page(report, title="OpenCHAMI fleet"):
    """One HTML file with its style inside: no script, no external resource."""
    body = []
    for item, row in zip(report, rows(report)):
        cells = []
        for index, cell in enumerate(row):
            css = ""
            if index == 1:
                css = "up" if item["reachable"] else "down"
            elif index == 6 and item["reachable"] and item.get("drift"):
                css = "sync" if item["drift"].get("in_sync") else "drift"
            cells.append('<td%s>%s</td>' % (' class="%s"' % css if css else "", html.escape(cell)))
        body.append("<tr>%s</tr>" % "".join(cells))
    errors = "".join("<li><b>%s</b>: %s</li>" % (html.escape(i["name"]), html.escape(i["error"]))
                     for i in report if i["error"])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style>"
            "</head><body><h1>%s</h1><table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>%s</body></html>\n"
            % (html.escape(title), _STYLE, html.escape(title), "".join("<th>%s</th>" % h for h in HEADERS),
               "".join(body), "<h2>Errors</h2><ul>%s</ul>" % errors if errors else ""))


def _label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels):
    return "{%s}" % ",".join('%s="%s"' % (k, _label(v)) for k, v in sorted(labels.items()))


def prometheus(report):
    """The report in Prometheus' text exposition format (a file for node_exporter's textfile collector)."""
    metrics = [
        ("openchami_instance_up", "Whether the instance's SMD answered (1) or not (0)."),
        ("openchami_service_info", "Version of a service of the instance (value always 1)."),
        ("openchami_nodes", "Nodes of the instance in SMD."),
        ("openchami_nodes_by_state", "Nodes of the instance in SMD by hardware state."),
        ("openchami_nodes_by_role", "Nodes of the instance in SMD by role."),
        ("openchami_spec_in_sync", "Whether the instance matches its cluster spec (1) or not (0)."),
        ("openchami_spec_drift", "Objects that applying the cluster spec would create, update or delete, or that "
                                 "the spec does not list (not_in_spec)."),
    ]
    samples = dict((m, []) for m, _h in metrics)
    for item in sorted(report, key=lambda i: i["name"]):
        name = item["name"]
        samples["openchami_instance_up"].append((_labels(instance=name), 1 if item["reachable"] else 0))
        if not item["reachable"]:
            continue
        for service, version in sorted(item["versions"].items()):
            samples["openchami_service_info"].append((_labels(instance=name, service=service, version=version), 1))
        samples["openchami_nodes"].append((_labels(instance=name), item["nodes"]["total"]))
        for state, count in sorted(item["nodes"]["by_state"].items()):
            samples["openchami_nodes_by_state"].append((_labels(instance=name, state=state), count))
        for role, count in sorted(item["nodes"]["by_role"].items()):
            samples["openchami_nodes_by_role"].append((_labels(instance=name, role=role), count))
        found = item.get("drift")
        if found and found["in_sync"] is not None:
            samples["openchami_spec_in_sync"].append((_labels(instance=name), 1 if found["in_sync"] else 0))
            for kind, counts in sorted(found["summary"].items()):
                for action in ACTIONS:
                    samples["openchami_spec_drift"].append(
                        (_labels(instance=name, kind=kind, action=action), counts[action]))
    lines = []
    for metric, help_text in metrics:
        lines += ["# HELP %s %s" % (metric, help_text), "# TYPE %s gauge" % metric]
        lines += ["%s%s %s" % (metric, labels, value) for labels, value in samples[metric]]
    return "\n".join(lines) + "\n"
