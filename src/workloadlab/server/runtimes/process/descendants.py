"""Every process a workload started, wherever it went; and killing them all when it ends.

A workload's process runs in a session and process group of its own, but its descendants may
leave both: a daemon that forks twice and calls ``setsid``, a child that calls ``setpgid``.
:class:`Snapshot` finds a process's owner in ``/proc`` by, in this order:

1. **session or group**: a process whose session or process group is a workload's leader is
   that workload's (the kernel does not reuse an id while a session or group still uses it);
2. **parent chain**: a process belongs to whatever its parent belongs to;
3. **marker**: ``WORKLOADLAB_INSTANCE=<data-dir-id>/<workload-id>`` (``...@<slot>`` for an
   instance that runs beside another of its workload: :mod:`.slots`), inherited by everything a
   workload starts and kept by a ``setsid`` daemon unless it replaces its environment; it finds
   what a crashed server left to init;
4. **orphans of a subreaper**: when the server is a child subreaper (:mod:`.reaping`), a process
   whose parent died is reparented to the server instead of init, so a child of the server that
   is no workload's leader and has no marker (it replaced its environment) left some workload.
   Which one cannot be told: it is an :class:`Orphan` of whichever workloads were running when
   it was born, and is killed with the last of them to stop.

When a workload's leader ends, :meth:`Family.kill` SIGKILLs everything it owns (as Kubernetes
kills a pod's whole pid namespace when its main process ends) and waits until it is gone. Each
kill goes through a pidfd and a check of the start time, so a pid reused meanwhile is never hit.
Without ``/proc`` (macOS) only the process group can be found and killed.

Why not a cgroup per workload, which would be exact: creating and joining one needs root or a
delegated subtree (a user's laptop or notebook server has neither), and ``posix_spawn`` cannot
start a process inside one, so a fork right after the exec could escape before it is moved.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from workloadlab.server.runtimes.process import procinfo
from workloadlab.server.runtimes.process.slots import instance_name, split_instance_name

logger = logging.getLogger("workloadlab.server")

KILL_TIMEOUT = 2.0
"""How long to wait for SIGKILLed processes to disappear before giving up on them."""
KILL_CHECK_INTERVAL = 0.02
MARKER_ENV = "WORKLOADLAB_INSTANCE"
"""Environment variable that marks a process as a workload of one data dir."""


@dataclass(frozen=True)
class Lineage:
    """What identifies one running instance's processes."""

    workload_id: str
    leader: int
    """The pid of the process the runtime started (its session id, normally its group id)."""
    group: int
    started: int
    """The leader's start time (``/proc`` clock ticks), to tell it from a reused pid."""
    adopted: bool = False
    """Started by an earlier server: what escaped before is not in this server's tree."""
    slot: int = 0
    """Which of the workload's side-by-side instances it is (:mod:`.slots`)."""

    @property
    def name(self) -> str:
        """The instance's name in markers: the workload id, and the slot unless it is 0."""
        return instance_name(self.workload_id, self.slot)


@dataclass(frozen=True)
class Orphan:
    """A process that left an unknown workload (reparented to the subreaper server)."""

    born: int
    """Start time of the orphaned process (the top one, if it has descendants)."""

    def could_be_of(self, lineage: Lineage) -> bool:
        """Whether ``lineage`` was running when the orphan was born."""
        return lineage.started <= self.born


@dataclass(frozen=True)
class Stray:
    """A marked process of a workload of this data dir that has no known instance."""

    workload_id: str


Owner = Lineage | Orphan | Stray | None


class Snapshot:
    """The live processes of the system at one moment, and whose each one is."""

    def __init__(
        self,
        lineages: Iterable[Lineage],
        marker_prefix: str,
        orphanage: bool,
        *,
        markers_everywhere: bool = True,
    ) -> None:
        self._prefix = marker_prefix
        self._markers_everywhere = markers_everywhere
        self._self = os.getpid()
        self._self_session = os.getsid(0)
        self._orphanage = orphanage
        self._by_leader: dict[int, Lineage] = {}
        self._by_group: dict[int, Lineage] = {}
        self._by_name: dict[str, Lineage] = {}
        for lineage in lineages:
            self._by_leader[lineage.leader] = lineage
            for group in {lineage.leader, lineage.group} - {0, 1}:  # 0: kernel threads'
                self._by_group[group] = lineage
            self._by_name[lineage.name] = lineage
        self.processes: dict[int, procinfo.ProcStat] = {}
        for pid in procinfo.pids():
            stat = procinfo.read_stat(pid)
            if stat is not None and not stat.exited:
                self.processes[pid] = stat
        self._owners: dict[int, Owner] = {}

    def owner(self, pid: int) -> Owner:
        """Whose process ``pid`` is (``None``: nobody's of this server and data dir)."""
        if pid in self._owners:
            return self._owners[pid]
        stat = self.processes.get(pid)
        if stat is None or pid <= 1 or pid == self._self:
            return None
        self._owners[pid] = None  # guards against a cycle of reused pids
        leader = self._by_leader.get(pid)
        owner: Owner = None
        if leader is not None and leader.started == stat.start_time:
            owner = leader
        else:
            owner = self._by_group.get(stat.sid) or self._by_group.get(stat.pgid)
        if owner is None:
            owner = self.owner(stat.ppid)
        if owner is None and (self._markers_everywhere or stat.ppid == self._self):
            owner = self._marked(pid)
        if (
            owner is None
            and self._orphanage
            and stat.ppid == self._self
            and stat.sid != self._self_session
        ):
            owner = Orphan(stat.start_time)
        self._owners[pid] = owner
        return owner

    def running(self, lineage: Lineage) -> bool:
        """Whether the leader of ``lineage`` is still running."""
        stat = self.processes.get(lineage.leader)
        return stat is not None and stat.start_time == lineage.started

    def select(self, doomed: Callable[[Owner], bool]) -> list[procinfo.ProcStat]:
        """The processes whose owner ``doomed`` accepts."""
        return [stat for pid, stat in self.processes.items() if doomed(self.owner(pid))]

    def _marked(self, pid: int) -> Lineage | Stray | None:
        marker = procinfo.environ_value(pid, MARKER_ENV)
        if marker is None or not marker.startswith(self._prefix):
            return None
        name = marker[len(self._prefix) :]
        return self._by_name.get(name) or Stray(split_instance_name(name)[0])


def kill_process(stat: procinfo.ProcStat, sig: signal.Signals = signal.SIGKILL) -> None:
    """Send ``sig`` to the process of ``stat`` if it is still that process (same start time)."""
    pidfd_open = getattr(os, "pidfd_open", None)
    send = getattr(signal, "pidfd_send_signal", None)
    try:
        if pidfd_open is None or send is None:
            if procinfo.start_time(stat.pid) == stat.start_time:
                os.kill(stat.pid, sig)
            return
        fd = pidfd_open(stat.pid)
        try:  # the pidfd pins the process: check that it is still the one we mean
            if procinfo.start_time(stat.pid) == stat.start_time:
                send(fd, sig)
        finally:
            os.close(fd)
    except ProcessLookupError:
        pass
    except OSError as exc:  # EPERM: another user's; ENOSYS: an old kernel
        logger.warning("cannot send %s to process %d: %s", sig.name, stat.pid, exc)


def signal_group(pgid: int, pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group (never to the server's own group)."""
    try:
        if pgid > 1 and pgid != os.getpgrp():
            os.killpg(pgid, sig)
        elif pid > 1 and pid != os.getpid():
            os.kill(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        logger.warning("cannot send %s to process group %d: %s", sig.name, pgid, exc)


def _group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process is left in the group, where there is no ``/proc``
    to tell more (zombies count for the kernel)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Family:
    """The lineages of the instances a runtime watches, and what kills their processes."""

    def __init__(self, data_dir_id: str, orphanage: bool) -> None:
        self.marker_prefix = f"{data_dir_id}/"
        self.orphanage = orphanage
        """Whether the server is a subreaper, so that orphans are its children."""
        self._lineages: set[Lineage] = set()

    def add(self, lineage: Lineage) -> None:
        """Watch ``lineage`` (right after its leader is spawned or adopted)."""
        self._lineages.add(lineage)

    def discard(self, lineage: Lineage) -> None:
        """Forget ``lineage`` (its instance is done)."""
        self._lineages.discard(lineage)

    def is_leader(self, pid: int) -> bool:
        """Whether ``pid`` is the leader of a watched lineage (its instance reaps it)."""
        return any(lineage.leader == pid for lineage in self._lineages)

    def snapshot(
        self, lineages: Iterable[Lineage] | None = None, *, markers_everywhere: bool = True
    ) -> Snapshot:
        """The processes now, owned by ``lineages`` (default: every watched one); markers are
        read only of the server's children unless ``markers_everywhere``."""
        known = self._lineages if lineages is None else lineages
        return Snapshot(
            known, self.marker_prefix, self.orphanage, markers_everywhere=markers_everywhere
        )

    async def kill(self, lineage: Lineage) -> None:
        """SIGKILL everything ``lineage`` owns, and the orphans that no other running lineage
        can own; return once they are gone (or after :data:`KILL_TIMEOUT`)."""
        if not procinfo.available():
            await _until_group_gone(lineage)
            return

        # A subreaper's own workload cannot have left its tree: only the markers of the
        # server's children (orphans) are worth reading, not those of every process.
        everywhere = lineage.adopted or not self.orphanage

        def victims() -> list[procinfo.ProcStat]:
            snapshot = self.snapshot({*self._lineages, lineage}, markers_everywhere=everywhere)
            others = [o for o in self._lineages if o != lineage and snapshot.running(o)]
            return snapshot.select(lambda owner: owner == lineage or _unclaimed(owner, others))

        await _kill_until_gone(victims, f"workload {lineage.workload_id}")

    async def sweep(self, keep: Sequence[Lineage]) -> list[tuple[procinfo.ProcStat, str]]:
        """SIGKILL this data dir's processes that no lineage in ``keep`` owns (marked ones of
        other workloads, and orphans that cannot be theirs); return the topmost ones killed,
        each with its workload id ("" if unknown)."""
        if not procinfo.available():
            return []
        killed: dict[int, tuple[procinfo.ProcStat, str]] = {}

        def doomed(owner: Owner) -> bool:
            return isinstance(owner, Stray) or _unclaimed(owner, keep)

        def victims() -> list[procinfo.ProcStat]:
            snapshot = self.snapshot(keep)
            found = snapshot.select(doomed)
            for stat in found:
                owner = snapshot.owner(stat.pid)
                if snapshot.owner(stat.ppid) != owner and stat.pid not in killed:
                    workload_id = owner.workload_id if isinstance(owner, Stray) else ""
                    killed[stat.pid] = (stat, workload_id)
            return found

        await _kill_until_gone(victims, "orphans")
        return [
            (stat, workload_id)
            for stat, workload_id in killed.values()
            if not procinfo.is_running(stat.pid, stat.start_time)
        ]


def _unclaimed(owner: Owner, claimants: Iterable[Lineage]) -> bool:
    """Whether ``owner`` is an orphan that none of ``claimants`` can own."""
    return isinstance(owner, Orphan) and not any(map(owner.could_be_of, claimants))


async def _kill_until_gone(find: Callable[[], list[procinfo.ProcStat]], what: str) -> None:
    """SIGKILL what ``find`` returns until it returns nothing (a process may fork meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_TIMEOUT
    while victims := find():
        if loop.time() > deadline:
            pids = ", ".join(str(stat.pid) for stat in victims)
            logger.warning("processes of %s survive SIGKILL: %s", what, pids)
            return
        for stat in victims:
            kill_process(stat)
        await asyncio.sleep(KILL_CHECK_INTERVAL)


async def _until_group_gone(lineage: Lineage) -> None:
    """Without ``/proc``: SIGKILL the leader's group until it is empty."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_TIMEOUT
    while _group_alive(lineage.group):
        if loop.time() > deadline:
            logger.warning("process group %d of %s survives SIGKILL", lineage.group, lineage)
            return
        signal_group(lineage.group, lineage.leader, signal.SIGKILL)
        await asyncio.sleep(KILL_CHECK_INTERVAL)
