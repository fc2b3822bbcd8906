# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Slurm in the lab (``python -m lab up --slurm``): Debian's slurm-wlm 22.05, real daemons.

| process | what | address |
|---|---|---|
| slurmctld | the controller, state in ``<state>/slurm/state`` | ``LAB_PORT_SLURMCTLD`` (all interfaces, as slurmctld binds) |
| slurmd-nidNNNNNN | one slurmd per Slurm node (``slurmd -N nidNNNNNN``), each on its own port | ``LAB_PORT_SLURMD`` + i |

The Slurm nodes are the compute nodes of the CSM seed (``lab/csm_seed.py``, ``LAB_CSM_NODES`` nodes): node name
``nid%06d`` of the seed's NID, the NIDs HSM (and, after an import, OpenCHAMI's SMD) hold. Partition ``compute``
holds them all.

Authentication: ``AuthType=auth/none`` and ``CredType=cred/none`` (slurm-wlm 22.05 still ships and accepts
both; no munged runs). Every Slurm node has a slurmd because a node whose slurmd never registered stays
``UNKNOWN*``: it can be drained, but ``scontrol update state=resume`` refuses it ("Invalid node state
specified"); with a slurmd it goes idle -> drained -> idle as on a real machine. A slurmd takes about 7 MB.
``up`` waits until every node has registered. The lab writes ``SLURM_CONF`` to ``lab.env``, so ``scontrol``,
``sinfo`` (and the migration hooks in ``examples/migration_hooks/``) talk to this controller.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from lab import csm as labcsm
from lab import csm_seed, runtime
from lab.runtime import LabError

HOST = "127.0.0.1"
PARTITION = "compute"
REGISTER_TIMEOUT = 120


def node_name(nid: int) -> str:
    """Slurm's name of the node with NID ``nid``."""
    return f"nid{int(nid):06d}"


def binary(name: str) -> str:
    """Path of a Slurm program (Debian puts the daemons in /usr/sbin)."""
    found = shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name)
                                        if p.exists()), None)
    if not found:
        raise LabError(f"{name} is needed for the lab's Slurm: apt-get install slurmctld slurmd slurm-client "
                       "(make system-deps)")
    return found


class SlurmSide:
    """slurmctld and the slurmds of one :class:`lab.services.Lab`."""

    def __init__(self, lab):
        self.lab = lab
        self.dir = lab.state / "slurm"
        self.conf = self.dir / "slurm.conf"

    # ------------------------------------------------------------------ configuration
    def nodes(self) -> list[dict]:
        """The Slurm nodes: ``{"name", "xname", "nid", "port"}`` for every compute node of the CSM seed."""
        base = self.lab.ports["slurmd"]
        compute = [item for item in csm_seed.node_layout(labcsm.nodes()) if item["role"] == "Compute"]
        return [{"name": node_name(item["nid"]), "xname": item["xname"], "nid": item["nid"], "port": base + index}
                for index, item in enumerate(compute)]

    def config_text(self) -> str:
        host = socket.gethostname().split(".")[0]
        folder = self.dir
        lines = [
            "# written by `python -m lab up --slurm` (lab/slurm.py); rewritten on every start",
            "ClusterName=lab",
            f"SlurmctldHost={host}({HOST})",
            f"SlurmctldPort={self.lab.ports['slurmctld']}",
            f"SlurmdPort={self.lab.ports['slurmd']}",
            "AuthType=auth/none", "CredType=cred/none",
            "SlurmUser=root", "SlurmdUser=root",
            f"StateSaveLocation={folder / 'state'}",
            f"SlurmdSpoolDir={folder / 'spool'}/%n",
            f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
            f"SlurmdPidFile={folder / 'spool'}/slurmd-%n.pid",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none", "SelectType=select/linear", "MpiDefault=none",
            "MailProg=/bin/true", "ReturnToService=2", "SlurmdParameters=config_overrides",
        ]
        for node in self.nodes():
            lines.append(f"NodeName={node['name']} NodeHostname={host} NodeAddr={HOST} Port={node['port']} CPUs=1 "
                         "RealMemory=100 State=UNKNOWN")
        lines.append(f"PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP")
        return "\n".join(lines) + "\n"

    def env(self) -> dict:
        return self.lab._env({"SLURM_CONF": str(self.conf)})  # pylint: disable=protected-access

    # ------------------------------------------------------------------ processes
    def controller(self):
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        text = self.config_text()
        port = self.lab.ports["slurmctld"]

        def prepare():
            for sub in ("state", "spool"):
                (self.dir / sub).mkdir(parents=True, exist_ok=True)
            self.conf.write_text(text, encoding="utf-8")
        # -i: start even if a state file is unreadable (a lab's state may come from another Slurm version)
        argv = [binary("slurmctld"), "-D", "-i", "-f", str(self.conf)]
        return Proc("slurmctld", argv, self.env(), self.dir, self.ping, "scontrol ping", f"slurm://{HOST}:{port}",
                    (HOST, port), "22.05", meta={"kind": "slurm"}, prepare=prepare)

    def slurmd(self, node: dict):
        from lab.services import Proc  # pylint: disable=import-outside-toplevel
        name = "slurmd-" + node["name"]
        argv = [binary("slurmd"), "-D", "-N", node["name"], "-f", str(self.conf)]
        return Proc(name, argv, self.env(), self.dir, lambda: runtime.port_open(HOST, node["port"]),
                    f"port {node['port']}", f"slurm://{HOST}:{node['port']}", (HOST, node["port"]), "22.05",
                    meta={"kind": "slurm"})

    def ping(self) -> bool:
        result = subprocess.run([binary("scontrol"), "ping"], env=self.env(), capture_output=True, text=True,
                                check=False, timeout=30)
        return result.returncode == 0 and "is UP" in result.stdout

    def states(self) -> dict:
        """Slurm node name -> state as ``sinfo`` shows it (``idle``, ``drained``, ``idle*`` ...)."""
        result = subprocess.run([binary("sinfo"), "-h", "-N", "-o", "%N %T"], env=self.env(), capture_output=True,
                                text=True, check=False, timeout=30)
        if result.returncode:
            raise LabError(f"sinfo failed: {result.stderr.strip()}")
        return dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())

    def registered(self) -> bool:
        """True when every Slurm node's slurmd has registered (no node unknown or not responding)."""
        states = self.states()
        return len(states) == len(self.nodes()) and not any(
            state.endswith("*") or state.startswith("unk") for state in states.values())

    # ------------------------------------------------------------------ up
    def start(self) -> None:
        """Start slurmctld, then the slurmds; wait until every node has registered."""
        nodes = self.nodes()
        if self.conf.exists() and self.conf.read_text(encoding="utf-8") != self.config_text():
            # other nodes or ports (LAB_CSM_NODES, LAB_PORT_*): every daemon must read the new slurm.conf
            for name in [n for n in runtime.records(self.lab.state) if n == "slurmctld" or n.startswith("slurmd-")]:
                self.lab.say(name, "slurm.conf changed: " + runtime.stop(self.lab.state, name))
        self.lab._wave([self.controller()])  # pylint: disable=protected-access
        self._stop_extra_slurmds({"slurmd-" + node["name"] for node in nodes})
        self.lab._wave([self.slurmd(node) for node in nodes])  # pylint: disable=protected-access
        begin = time.monotonic()
        runtime.wait_until(self.registered, self.lab.state, "slurmctld", REGISTER_TIMEOUT,
                           f"all {len(nodes)} Slurm nodes registered (sinfo)")
        self.lab.say("slurm", f"{len(nodes)} nodes registered ({nodes[0]['name']}..{nodes[-1]['name']}), "
                              f"SLURM_CONF={self.conf}", time.monotonic() - begin)

    def _stop_extra_slurmds(self, wanted: set) -> None:
        for name, record in runtime.records(self.lab.state).items():
            if name.startswith("slurmd-") and name not in wanted:
                self.lab.say(name, runtime.stop(self.lab.state, name))

    def running(self) -> bool:
        return runtime.is_running(self.lab.state, "slurmctld")

    def definition(self, name: str):
        """The lab process ``name`` (``slurmctld``, ``slurmd-nid000001`` ...)."""
        if name == "slurmctld":
            return self.controller()
        for node in self.nodes():
            if name == "slurmd-" + node["name"]:
                return self.slurmd(node)
        raise LabError(f"unknown Slurm process {name!r}")

    def info(self) -> dict:
        nodes = self.nodes()
        return {"conf": str(self.conf), "port": self.lab.ports["slurmctld"], "partition": PARTITION,
                "nodes": [{"name": n["name"], "xname": n["xname"], "nid": n["nid"]} for n in nodes]}

    def exports(self) -> dict:
        return {"SLURM_CONF": str(self.conf)}
