# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report of one migration run, from the ledger's records: JSON, Markdown and one self-contained HTML page
(counts by outcome, per-node timeline and duration, failures with their reasons, an inline SVG chart of nodes
migrated over time). No AnsibleModule here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cscs.openchami.plugins.module_utils.migration import OUTCOMES, parse_time

try:
    from html import escape
except ImportError:  # Python 2 (sanity's compile test only)
    from cgi import escape  # pylint: disable=deprecated-module


def summarize(run, records):
    """The report data of ``run`` ({run_id, operator, started, finished, ledger, check_mode?}) over the records that
    this run touched. Times are ISO 8601 UTC; durations in seconds."""
    nodes = []
    for name in sorted(records):
        record = records[name]
        mine = [h for h in record.get("history") or [] if h.get("run_id") == run["run_id"]]
        if not mine:
            continue
        first, last = parse_time(mine[0]["time"]), parse_time(mine[-1]["time"])
        nodes.append({"xname": name, "nid": record.get("nid"), "hostname": record.get("hostname"),
                      "outcome": record.get("outcome"), "step": record.get("step"),
                      "error": record.get("error") if record.get("outcome") != "migrated" else None,
                      "started": mine[0]["time"], "finished": mine[-1]["time"],
                      "duration": round((last - first).total_seconds(), 3),
                      "timeline": [dict((k, h[k]) for k in ("step", "outcome", "time", "error") if h.get(k))
                                   for h in mine]})
    counts = dict((outcome, 0) for outcome in OUTCOMES)
    for node in nodes:
        counts[node["outcome"]] = counts.get(node["outcome"], 0) + 1
    durations = sorted(n["duration"] for n in nodes if n["outcome"] == "migrated")
    return {"run_id": run["run_id"], "operator": run.get("operator"), "ledger": run.get("ledger"),
            "started": run.get("started"), "finished": run.get("finished"), "total": len(nodes), "counts": counts,
            "skipped": run.get("skipped") or {},
            "duration_per_migrated_node": {
                "min": durations[0] if durations else None, "max": durations[-1] if durations else None,
                "median": durations[len(durations) // 2] if durations else None},
            "failures": [{"xname": n["xname"], "outcome": n["outcome"], "step": n["step"], "error": n["error"]}
                         for n in nodes if n["outcome"] != "migrated"],
            "nodes": nodes}


def migrated_over_time(report):
    """[(seconds since the run's first event, nodes migrated so far)] for the chart."""
    nodes = report["nodes"]
    if not nodes:
        return []
    origin = min(parse_time(n["started"]) for n in nodes)
    done = sorted(parse_time(n["finished"]) for n in nodes if n["outcome"] == "migrated")
    points = [(0.0, 0)]
    for count, when in enumerate(done, 1):
        points.append((round((when - origin).total_seconds(), 3), count))
    return points


def markdown(report):
    counts = report["counts"]
    lines = ["# Migration run %s" % report["run_id"], "",
             "Operator: %s. Started %s, finished %s. Ledger: `%s`." % (
                 report["operator"], report["started"], report["finished"] or "(not finished)", report["ledger"]), "",
             "| outcome | nodes |", "| --- | --- |"]
    lines += ["| %s | %d |" % (outcome, counts[outcome]) for outcome in sorted(counts)]
    lines += ["| total | %d |" % report["total"], ""]
    if report["skipped"]:
        lines += ["Skipped (recorded by an earlier run): %d node(s)." % len(report["skipped"]), ""]
    if report["failures"]:
        lines += ["## Failures", "", "| node | outcome | step | reason |", "| --- | --- | --- | --- |"]
        lines += ["| %s | %s | %s | %s |" % (f["xname"], f["outcome"], f["step"], _cell(f["error"]))
                  for f in report["failures"]]
        lines.append("")
    lines += ["## Nodes", "", "| node | NID | outcome | started | duration (s) | steps |", "| --- | --- | --- | --- | --- | --- |"]
    lines += ["| %s | %s | %s | %s | %.1f | %s |" % (n["xname"], n["nid"], n["outcome"], n["started"], n["duration"],
                                                     " > ".join(h["step"] for h in n["timeline"]))
              for n in report["nodes"]]
    return "\n".join(lines) + "\n"


def _cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ")


def svg_chart(points, width=640, height=240):
    """An inline SVG step chart of nodes migrated over time."""
    pad = 40
    if len(points) < 2:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"><text x="%d" y="%d">no node migrated' \
               '</text></svg>' % (width, height, pad, height // 2)
    span = max(points[-1][0], 1e-3)
    top = max(p[1] for p in points)

    def x(seconds):
        return pad + (width - 2 * pad) * seconds / span

    def y(count):
        return height - pad - (height - 2 * pad) * count / float(top)

    path = []
    for (seconds, count), (later, _count) in zip(points, points[1:] + [points[-1]]):
        path.append("%.1f,%.1f %.1f,%.1f" % (x(seconds), y(count), x(later), y(count)))
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
            'aria-label="nodes migrated over time">'
            '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
            '<polyline fill="none" stroke="#1565c0" stroke-width="2" points="%s"/>'
            '<text x="%d" y="%d" font-size="12">%d</text><text x="%d" y="%d" font-size="12">0</text>'
            '<text x="%d" y="%d" font-size="12" text-anchor="end">%.1f s</text>'
            '<text x="%d" y="%d" font-size="12">nodes migrated</text></svg>'
            % (width, height, pad, height - pad, width - pad, height - pad, pad, pad, pad, height - pad,
               " ".join(path), 4, pad + 4, top, 4, height - pad, width - pad, height - pad + 16, span, pad, pad - 12))


def html(report):
    counts = report["counts"]
    rows = "".join("<tr><td>%s</td><td>%d</td></tr>" % (escape(o), counts[o]) for o in sorted(counts))
    failures = "".join("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
        escape(f["xname"]), escape(f["outcome"]), escape(f["step"] or ""), escape(f["error"] or ""))
        for f in report["failures"]) or '<tr><td colspan="4">none</td></tr>'
    nodes = "".join(
        "<tr class=\"%s\"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.1f</td><td>%s</td></tr>" % (
            escape(n["outcome"]), escape(n["xname"]), escape(str(n["nid"])), escape(n["outcome"]),
            escape(n["started"]), n["duration"],
            " &rarr; ".join('<span title="%s">%s</span>' % (escape(h["time"]), escape(h["step"])) for h in n["timeline"]))
        for n in report["nodes"])
    return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Migration run %(run)s</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}tr.rolled_back td,tr.failed td{background:#fdecea}
tr.running td{background:#fff8e1}</style></head><body>
<h1>Migration run %(run)s</h1>
<p>Operator: %(operator)s. Started %(started)s, finished %(finished)s. Ledger: <code>%(ledger)s</code>.</p>
<h2>Outcomes</h2><table><tr><th>outcome</th><th>nodes</th></tr>%(rows)s<tr><th>total</th><th>%(total)d</th></tr></table>
<p>Skipped (recorded by an earlier run): %(skipped)d. Duration per migrated node (s): min %(dmin)s, median %(dmed)s,
max %(dmax)s.</p>
<h2>Nodes migrated over time</h2>%(chart)s
<h2>Failures</h2><table><tr><th>node</th><th>outcome</th><th>step</th><th>reason</th></tr>%(failures)s</table>
<h2>Nodes</h2><table><tr><th>node</th><th>NID</th><th>outcome</th><th>started</th><th>duration (s)</th>
<th>steps</th></tr>%(nodes)s</table>
</body></html>
""" % {"run": escape(report["run_id"]), "operator": escape(str(report["operator"])),
       "started": escape(str(report["started"])), "finished": escape(str(report["finished"] or "(not finished)")),
       "ledger": escape(str(report["ledger"])), "rows": rows, "total": report["total"],
       "skipped": len(report["skipped"]), "dmin": report["duration_per_migrated_node"]["min"],
       "dmed": report["duration_per_migrated_node"]["median"], "dmax": report["duration_per_migrated_node"]["max"],
       "chart": svg_chart(migrated_over_time(report)), "failures": failures, "nodes": nodes}
