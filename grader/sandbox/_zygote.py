"""The sandbox's zygote: imports torch once, then forks one worker per learner module, which
shuts itself in (`_jail.py`), and cleans up everything each worker leaves behind (`_leftovers.py`).

Run as a script by the grader (`python -I _zygote.py FD OPTIONS`, inside bubblewrap in the
strong mode); it never runs learner code itself. Control protocol, over a SOCK_SEQPACKET
socket: one JSON request per packet (a fork request carries the new worker's socket by
SCM_RIGHTS), one JSON reply per packet. Worker ids are pids as this process sees them
(inside the strong mode's pid namespace, not the grader's), which is why the grader asks us
to kill and reap instead of signalling them itself.
"""
from __future__ import annotations

import json
import linecache
import os
import select
import signal
import socket
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # our siblings, found through HERE only while we import them
import _kernel  # noqa: E402 - found through HERE, inserted just above

# Before torch: the zygote goes on as pid 1 of a namespace of its own (see _kernel), so that
# whatever ends it, every process its workers started ends too. bwrap made one already.
NAMESPACE = __name__ == "__main__" and sys.argv[2:] == ["own-namespace"] and _kernel.own_pid_namespace(int(sys.argv[1]))

# No numpy in a worker: its array protocols (`__array_interface__`, `__array_struct__`, and
# torch's `__cuda_array_interface__`, which needs numpy) build arrays at any address that an
# object answers with, through `__getattr__` or an instance's dict alike: raw memory for
# learner code. Blocked before torch imports it; torch works on without (`.numpy()` refuses).
sys.modules["numpy"] = None  # type: ignore[assignment]
import warnings  # noqa: E402

with warnings.catch_warnings():  # torch's "Failed to initialize NumPy": meant. First: our siblings import torch
    warnings.simplefilter("ignore")
    import torch  # noqa: E402 - after the namespace is set up
import _drivers_loader  # noqa: E402 - after the namespace is set up
import _guards  # noqa: E402, F401 - after the namespace is set up; _jail's sibling
import _hooks  # noqa: E402, F401 - after the namespace is set up; _guards' sibling
import _leftovers  # noqa: E402 - after the namespace is set up
import _results  # noqa: E402, F401 - after the namespace is set up; _worker's sibling
import _wire  # noqa: E402 - after the namespace is set up
import _worker  # noqa: E402 - after the namespace is set up
import _jail  # noqa: E402 - after the namespace is set up

del sys.path[0]

PR_SET_CHILD_SUBREAPER = 36
NOBODY = 65534  # the shared fallback uid: its processes are never killed by uid
WATCH_SECONDS = 0.05  # how often the memory of GPU workers is looked at (see Zygote.watch)


class Zygote:
    """Forks workers on request and reaps them, killing whatever they leave behind.

    As a child subreaper it inherits every orphan a worker leaves (a child that outlives
    its parent, a double fork) and kills it as soon as it shows up; when a worker ran as a
    uid of its own, every process of that uid dies with it and its files in the shared
    temporary folders are removed. SIGCHLD only wakes the main loop (through a wakeup
    descriptor): reaping never interrupts a fork half-way.
    """

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.workers: dict[int, tuple[str, int]] = {}  # pid -> (temporary folder, uid)
        self.ended: dict[int, int] = {}  # pid -> wait status, until the grader asks
        self.retired: set[int] = set()  # uids of ended workers: any process left with one is a stray
        self.leftovers: list[tuple[str, int]] = []  # (folder, uid) of ended workers, to clean up
        self.watched: dict[int, int] = {}  # pid -> the memory (bytes) each of its processes may hold (GPU workers)
        # The workers' folders, in one folder of ours: however many files others leave in
        # /tmp, making and removing a worker's folder costs the same.
        self.root = tempfile.mkdtemp(prefix="lossgrade-zygote-")
        if NAMESPACE:  # a tmpfs in our own mount namespace: it vanishes with us, however we end
            _kernel.mount_tmpfs(self.root)
        os.chmod(self.root, 0o711)  # workers of their own uids reach their folder, and list none
        _jail.LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1)
        _jail.LIBC.prctl(_jail.PR_SET_PDEATHSIG, signal.SIGKILL)
        self.wakeup, self._wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self._wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def serve(self) -> None:
        while True:
            ready, _, _ = select.select([self.control.fileno(), self.wakeup], [], [],
                                        WATCH_SECONDS if self.watched else None)
            self.watch()
            if self.wakeup in ready:
                _drain(self.wakeup)
                self.reap()
            if self.control.fileno() in ready:
                message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 1)
                if not message:
                    self.shutdown()
                    return
                reply = self.handle(json.loads(message), fds)
                self.control.send(json.dumps(reply).encode())
                if self.leftovers:
                    self.reap()  # after the reply: the grader need not wait for the cleanup

    def handle(self, request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        if request["op"] == "fork" and fds:
            return {"pid": self.fork(fds[0], request["limits"], request["uid"])}
        for fd in fds:
            os.close(fd)
        if request["op"] == "end":
            return self.end(request["pid"], request["grace"])
        if request["op"] == "alone":
            return {"alone": self.alone(request["pid"])}
        return {"error": f"unknown op {request['op']!r}"}

    def alone(self, pid: int) -> bool:
        """Whether worker `pid` is alive, one thread, with no process below it, and whether
        nothing else is below us but live workers (no orphan of a worker's): the condition
        for the grader to hand it on to the same learner's next exercise. Asked here, not
        of the worker, whose answers learner code may write."""
        if pid not in self.workers or pid in self.ended:
            return False
        try:
            threads = len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            return False
        children = _leftovers.our_children()
        return threads == 1 and not _leftovers.descendants(pid) and children is not None and children <= self.workers.keys()

    def fork(self, fd: int, limits: dict[str, int], uid: int) -> int:
        workdir = tempfile.mkdtemp(prefix="lossgrade-worker-", dir=self.root)
        uid = uid if os.getuid() == 0 else os.getuid()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                self.control.close()
                os.close(self.wakeup)
                os.close(self._wakeup_write)
                sock = socket.socket(fileno=fd)
                _jail.enter_jail(workdir, sock, limits, uid)
                _worker.Worker(sock, workdir, _jail.GUARDS.learner_code, _jail.GUARDS.violations, _worker.DRIVERS,
                               _jail.GUARDS.imported).serve()
            except BaseException:  # noqa: BLE001 - a worker never returns into the zygote
                code = 70
            finally:
                os._exit(code)
        os.close(fd)
        self.workers[pid] = (workdir, uid)
        if _jail.GPU and limits["memory_mib"]:
            self.watched[pid] = _leftovers.memory_of(os.getpid()) + (limits["memory_mib"] << 20)
        self.retired.discard(uid)
        return pid

    def end(self, pid: int, grace: float) -> dict[str, Any]:
        """The wait status of a worker, killing its process group if it has not ended
        within `grace` seconds; `killed` says whether we had to."""
        deadline, killed = time.monotonic() + grace, False
        while pid not in self.ended:
            if pid not in self.workers:
                return {"status": None, "killed": killed}
            if time.monotonic() >= deadline:
                if killed:
                    return {"status": None, "killed": killed}  # stuck in the kernel; reaped later
                _leftovers.kill_group(pid)
                killed, deadline = True, time.monotonic() + 5.0
            select.select([self.wakeup], [], [], 0.01)
            _drain(self.wakeup)
            self._collect()
            self.watch()
        return {"status": self.ended.pop(pid), "killed": killed}

    def _collect(self) -> None:
        """Reap every ended child; an ended worker's process group dies with it."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.workers:
                self.ended[pid] = status
                self.watched.pop(pid, None)
                workdir, uid = self.workers.pop(pid)
                _leftovers.kill_group(pid)
                self.leftovers.append((workdir, uid))
                if uid not in (os.getuid(), NOBODY):  # a uid of its own, used by nothing else
                    self.retired.add(uid)

    def watch(self) -> None:
        """Kill every GPU worker one of whose processes holds more memory than its limit.

        A GPU worker's RLIMIT_DATA counts only private memory, and its seccomp filter lets
        CUDA make memfds and shared maps: so, every WATCH_SECONDS, each of its processes'
        resident anonymous and shared pages and the memfds it holds are added up here (a
        mapped memfd counts twice: the bound errs on the safe side). Between two looks a
        worker may overshoot by what it can touch in that time."""
        for pid, limit in list(self.watched.items()):
            processes = [pid, *_leftovers.descendants(pid)]
            if any(_leftovers.memory_of(process) > limit for process in processes):
                self.watched.pop(pid)
                _leftovers.kill_group(pid)
                for process in processes:
                    _leftovers.kill(process)

    def reap(self) -> None:
        """Collect ended children, kill strays until none is left, then remove what the
        ended workers left on disk."""
        for _ in range(200):
            self._collect()
            strays = self._strays()
            if not strays:
                break
            for stray in strays:
                _leftovers.kill(stray)
            time.sleep(0.001)
        leftovers, self.leftovers = self.leftovers, []
        for workdir, _ in leftovers:
            _leftovers.remove_tree(workdir)
        if not _jail.LANDLOCK_ABI:  # with Landlock, a worker can write nowhere else
            _leftovers.remove_files_of({uid for _, uid in leftovers if uid in self.retired})

    def _strays(self) -> list[int]:
        """Every process below us but not below a live worker (orphans reparented to us,
        and their whole trees, in one pass), and any process of a uid whose worker has
        ended. A live worker's children are its own business: a DataLoader's, say."""
        children_now = _leftovers.our_children()
        if children_now is not None and children_now <= self.workers.keys():
            # Everything else below us would hang from a child that is no live worker, and a
            # retired uid's process could only be below us: nothing to look for.
            return []
        processes = _leftovers.processes()
        children: dict[int, list[int]] = {}
        for pid, ppid, _ in processes:
            children.setdefault(ppid, []).append(pid)
        found, frontier = set(), [pid for pid in children.get(os.getpid(), []) if pid not in self.workers]
        while frontier:
            found.update(frontier)
            frontier = [child for pid in frontier for child in children.get(pid, []) if child not in found]
        found.update(pid for pid, _, uid in processes if uid in self.retired)
        found.discard(os.getpid())
        return sorted(found)

    def shutdown(self) -> None:
        for pid in self.workers:
            _leftovers.kill_group(pid)
        for _ in range(200):
            self.reap()
            if not self.workers:
                break
            time.sleep(0.002)
        _leftovers.remove_tree(self.root)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def warm_up(parts: list[str], gpu: bool) -> None:
    """Pay torch's lazy initialisation (autograd, the wire format's numpy and, when asked for,
    optimizers, whose first construction costs ~2 s) once here, not in every worker.

    Where workers may use a GPU, only what leaves CUDA alone: a process that has run a
    backward (autograd starts its device threads, counting CUDA devices through the driver)
    or an optimizer's first step (it asks `torch.cuda.is_available()`) has forked children
    that cannot initialise CUDA (measured on an H200 with torch 2.11: see .ci/device-check)."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    loss = torch.nn.functional.cross_entropy(model(torch.randn(5, 3)), torch.tensor([0, 1, 0, 1, 1]))
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    if not gpu:
        loss.backward()
        if "optim" in parts:
            for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                              torch.optim.Adam(model.parameters())):
                optimizer.step()
                optimizer.zero_grad()
        torch.autograd.grad((x.exp() * x).sum(), [x])
    request = _wire.decode_request(_wire.encode_request({"args": [x.detach()], "kwargs": {}}))
    _worker.to_device(request["args"][0], "cpu")
    _worker.encode_reply({"kind": "tensor", "value": x.detach(), "grads": [None]})


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    options = json.loads(control.recv(1 << 20))  # not in argv, where a worker would find the paths
    torch.set_num_threads(1)
    # Counted through NVML, which leaves CUDA uninitialised here: a worker forked from a
    # zygote that had initialised CUDA could not use it.
    _jail.GPU = torch.cuda.device_count() > 0 if options.get("gpu") is None else bool(options["gpu"])
    _jail.SECCOMP = _kernel.seccomp_program(gpu=_jail.GPU)  # CUDA needs memfd and shared maps: see Zygote.watch
    _jail.NAMESPACE = NAMESPACE
    warm_up(options["warm"], gpu=_jail.GPU)
    _worker.DRIVERS.update(_drivers_loader.course_drivers(options.pop("drivers", {})))  # before any learner code
    for dotted in options["forbidden"]:
        _jail.GUARDS.wrap(dotted)
    forbidden = tuple(os.path.realpath(p) for p in options.pop("forbidden_paths"))
    _jail.GUARDS.hide(options.pop("hidden"))  # kept as digests: a worker is not told where they are
    readable = _jail.readable_roots(forbidden)
    del forbidden
    _jail.GUARDS.readable = tuple(readable)
    _jail.RULES.extend(_jail.open_rules(readable))
    control.send(json.dumps({"ready": True, "landlock": _jail.LANDLOCK_ABI, "seccomp": _jail.SECCOMP is not None,
                             "pid_namespace": bool(NAMESPACE) or os.getpid() == 1 or options["strong"]}).encode())
    _worker.remember_modules()  # the last import done: what every worker starts with
    # Source lines read so far (torch's imports read many): a worker clears the cache at
    # each reset, which would free every line in it, writing to each (~1,000 of the pages
    # it shares with us copied, ~4 MB). Cleared here, once.
    linecache.clearcache()
    Zygote(control).serve()
    # Its workers are reaped and their files removed: skip the interpreter's teardown of
    # torch (about a second), which the grader would otherwise wait for.
    os._exit(0)


if __name__ == "__main__":
    main()
