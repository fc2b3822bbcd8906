# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m lab``: the local OpenCHAMI lab.

    python -m lab up [--services smd,bss,...] [--bmcs N] [--mockups ex425,gigabyte|all] [--csm] [--slurm] [--nodeboot]
    python -m lab down [--wipe]
    python -m lab status [--json]
    python -m lab env
    python -m lab logs [SERVICE] [-n LINES] [-f]
    python -m lab build [NAME ...] [--force] [--list]
    python -m lab token [--expired] [--audience X] [--lifetime S]

Environment: LAB_STATE (default <repo>/lab-state), LAB_CACHE (default ~/.cache/cscs-openchami-lab),
LAB_PORT_<SERVICE>, LAB_BMC_PASSWORD, LAB_PG_BIN, LAB_PG_USER, LAB_MOCKUPS; LAB_SERVICES and LAB_BMCS
are the defaults of ``up --services`` and ``up --bmcs`` (``make lab-up`` passes no options).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from lab import build as labbuild
from lab import csm as labcsm
from lab import jwt as labjwt
from lab import runtime
from lab.runtime import LabError
from lab.services import DEFAULT_BMCS, Lab


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def cmd_up(args) -> int:
    """Start (or complete) the lab."""
    Lab().up(services=_csv(args.services) if args.services else None, bmcs=args.bmcs,
             mockups=_csv(args.mockups) if args.mockups else (), csm=args.csm, slurm=args.slurm,
             nodeboot=args.nodeboot)
    return 0


def cmd_down(args) -> int:
    """Stop the lab."""
    lab = Lab()
    lab.down()
    if args.wipe:
        shutil.rmtree(lab.state)
        print(f"  removed {lab.state}")
    return 0


def cmd_status(args) -> int:
    """Show what runs; exit 1 if anything the lab should run is down, or a lab process is untracked."""
    lab = Lab()
    status = lab.status()
    problems = [f"{name} ({item['state']})" for name, item in status.items()
                if (item["expected"] or item["state"] == "untracked") and not item["ready"]]
    if not lab.expected():
        problems.append(f"the lab is not up ({lab.state / 'lab.json'} is missing)")
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(f"lab state {lab.state}")
        for name, item in status.items():
            pid = item["pid"] if item["pid"] else "-"
            print(f"  {name:16} {item['state']:18} pid {pid!s:8} {item['version']:9} {item['url']}")
    if problems:
        print("lab: down or untracked: " + ", ".join(problems), file=sys.stderr)
        return 1
    return 0


def cmd_env(_args) -> int:
    """Print lab.env (shell exports)."""
    path = runtime.state_dir() / "lab.env"
    if not path.exists():
        print(f"{path} does not exist: run `python -m lab up` first", file=sys.stderr)
        return 1
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


def cmd_logs(args) -> int:
    """List logs, or print (and follow) one."""
    state = runtime.state_dir()
    if not args.service:
        for path in sorted((state / "logs").glob("*.log")):
            print(f"{path.stem:16} {path.stat().st_size:>10} bytes  {path}")
        return 0
    path = runtime.log_file(state, args.service)
    if not path.exists():
        known = sorted(p.stem for p in (state / "logs").glob("*.log"))
        print(f"no log for {args.service!r}; known: {', '.join(known)}", file=sys.stderr)
        return 1
    with open(path, "r", encoding="utf-8", errors="replace") as handle:
        lines = handle.readlines()
        sys.stdout.writelines(lines[-args.lines:] if args.lines else lines)
        sys.stdout.flush()
        while args.follow:
            line = handle.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.3)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m lab", description="Local OpenCHAMI lab (real services on loopback).")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build what is missing, start what is not running, write lab.env")
    services_help = "comma-separated: smd,bss,cloud-init,boot-service,pcs,power-control,bmcs (default: all that can be built, and bmcs)"
    up.add_argument("--services", default=os.environ.get("LAB_SERVICES") or None,
                    help=services_help + "; default from $LAB_SERVICES")
    up.add_argument("--bmcs", type=int, default=int(os.environ.get("LAB_BMCS") or DEFAULT_BMCS),
                    help=f"emulated sushy BMCs (default $LAB_BMCS or {DEFAULT_BMCS})")
    up.add_argument("--mockups", help="comma-separated Redfish mockups to serve, or 'all'")
    up.add_argument("--csm", action="store_true",
                    help="also the CSM side: Keycloak, HSM, BSS, SLS/BOS/IMS/CFS/PCS emulators, haproxy gateway")
    up.add_argument("--slurm", action="store_true",
                    help="also Slurm: slurmctld and a slurmd per compute node of the CSM seed (SLURM_CONF in lab.env)")
    up.add_argument("--nodeboot", action="store_true",
                    help="also the node-boot simulator: the BMCs' nodes fetch their boot script from BSS when powered on")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop every process the lab started and PostgreSQL")
    down.add_argument("--wipe", action="store_true", help="also delete the state directory")
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="what runs (exit 1 if something the lab should run is down or untracked)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    sub.add_parser("env", help="print shell exports (eval \"$(python -m lab env)\")").set_defaults(func=cmd_env)
    logs = sub.add_parser("logs", help="list logs, or print one")
    logs.add_argument("service", nargs="?")
    logs.add_argument("-n", "--lines", type=int, default=50, help="last N lines (0: all)")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(func=cmd_logs)
    build = sub.add_parser("build", help="build the pinned binaries (python -m lab.build)", add_help=False)
    build.set_defaults(func=None)
    token = sub.add_parser("token", help="mint a lab token (python -m lab.jwt mint)", add_help=False)
    token.set_defaults(func=None)
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "build":
            if "keycloak" in rest:
                print(f"keycloak: {labcsm.build_keycloak(force='--force' in rest)}")
                rest = [name for name in rest if name != "keycloak"]
                if not [name for name in rest if not name.startswith("-")]:
                    return 0
            return labbuild.main(rest)
        if args.command == "token":
            return labjwt.main(["--state", str(runtime.state_dir()), "mint"] + rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return args.func(args)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
