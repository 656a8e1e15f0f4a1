"""The sandbox's mechanisms one at a time: the jail's limits and scrubbing, the guards,
the zygote's clean-up, and the validation of untrusted replies. (The red-team suite in
tests/redteam attacks them all together, as hostile submissions.)"""
from __future__ import annotations

import os
import struct
import sys
import time
from pathlib import Path

import pytest
import torch
from lossgrade.sandbox import _hooks, _wire
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.sandbox.inprocess import _WORKER
from lossgrade.sandbox.learner import LearnerModule
from lossgrade.sandbox.replies import MAX_ITEMS, Reply, validate

sys.modules.setdefault("_hooks", _hooks)  # _guards' sibling, which it imports by name: as the zygote provides it
from lossgrade.sandbox._guards import OPERATORS  # noqa: E402 - after its sibling is provided

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "ex01_mse.py"


def probe(sandbox: Sandbox, source: str, *args: object, limits: Limits | None = None,
          forbidden: tuple[str, ...] = (), **kwargs: object) -> Reply:
    """Call `probe(*args)` from `source` in a fresh worker."""
    learner = LearnerModule(sandbox, "probe", {"probe.py": source}, ("probe",), forbidden, limits)
    try:
        return learner.call("probe", *args, **kwargs)
    finally:
        learner.close()


def report(sandbox: Sandbox, body: str, **kwargs: object) -> str:
    """What `body` (the inside of a function whose value is raised as a message) saw."""
    source = "import os, sys, socket, subprocess, tempfile, resource, torch\n\ndef probe():\n" + \
             "".join(f"    {line}\n" for line in body.strip().splitlines())
    reply = probe(sandbox, source, **kwargs)
    assert reply.kind == "raised", reply
    return reply.message


# --- the jail ---------------------------------------------------------------------------------
def test_worker_starts_scrubbed_in_a_fresh_folder_of_its_own(sandbox):
    seen = report(sandbox, """
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
raise ValueError(repr((sorted(os.environ), os.getcwd(), tempfile.gettempdir(), os.getuid(), len(fds))))
""")
    names, cwd, tmp, uid, fds = eval(seen)
    assert names == ["HOME", "LANG", "LOGNAME", "OMP_NUM_THREADS", "PATH", "TMPDIR", "USER"]
    assert tmp == cwd and os.path.basename(cwd).startswith("lossgrade-worker-")
    assert fds <= 6  # stdin, stdout, stderr, the socket, the output file, the listing itself
    if os.geteuid() == 0:
        assert uid in sandbox.uids


def test_concurrent_workers_run_as_different_users(sandbox):
    if os.geteuid() != 0:
        pytest.skip("only root can give each worker a uid of its own")
    source = "import os\n\ndef probe():\n    raise ValueError(str(os.getuid()))\n"
    first = LearnerModule(sandbox, "probe", {"probe.py": source}, ("probe",))
    second = LearnerModule(sandbox, "probe", {"probe.py": source}, ("probe",))
    try:
        assert first.call("probe").message != second.call("probe").message
    finally:
        first.close()
        second.close()


def test_cpu_time_limit_kills_a_busy_worker(sandbox):
    reply = probe(sandbox, "def probe():\n    while True:\n        pass\n", limits=Limits(cpu_seconds=1, call_seconds=60))
    assert reply.kind == "crashed" and "CPU-time limit" in reply.message


def test_file_size_limit_stops_a_large_write(sandbox):
    seen = report(sandbox, """
with open("big", "wb") as f:
    try:
        f.write(b"0" * (3 << 20))
    except OSError as exc:
        raise ValueError(f"{exc.strerror} after {os.path.getsize('big')}")
""", limits=Limits(file_mib=2))
    assert seen == f"File too large after {2 << 20}"


def test_process_limit_stops_a_fork_loop_short(sandbox):
    seen = report(sandbox, """
children = []
try:
    while len(children) < 100:
        pid = os.fork()
        if pid == 0:
            import time
            time.sleep(30)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    raise ValueError(f"{exc.__class__.__name__} after {len(children)}")
raise ValueError("no limit")
""", limits=Limits(processes=8))
    assert seen.startswith("BlockingIOError after") and int(seen.split()[-1]) <= 8


BIG_ALLOCATIONS = """
big = torch.ones(256 << 20, dtype=torch.uint8)
try:
    torch.empty(8 << 30, dtype=torch.uint8)
except RuntimeError:
    raise ValueError(f"refused 8 GiB after {big.numel() >> 20} MiB")
raise ValueError("no limit")
"""
LIMITS_IN_FORCE = """
unlimited = resource.RLIM_INFINITY
raise ValueError(repr([resource.getrlimit(which)[0] != unlimited for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA)]))
"""


def test_address_space_limit_refuses_a_huge_tensor_but_not_a_large_one(sandbox):
    assert report(sandbox, BIG_ALLOCATIONS, limits=Limits(memory_mib=2048)) == "refused 8 GiB after 256 MiB"
    if not sandbox.gpu and not torch.cuda.device_count():
        assert report(sandbox, LIMITS_IN_FORCE) == "[True, False]"


def test_a_worker_that_may_use_a_gpu_has_its_data_limited_instead():
    """CUDA reserves far more address space than it uses: such a worker's limit is on its
    private writable memory, which holds every CPU tensor just the same."""
    with Sandbox(gpu=True) as box:
        assert report(box, LIMITS_IN_FORCE) == "[False, True]"
        assert report(box, BIG_ALLOCATIONS, limits=Limits(memory_mib=2048)) == "refused 8 GiB after 256 MiB"


# --- the guards -------------------------------------------------------------------------------
def test_reading_the_reference_solution_is_a_violation_naming_it(sandbox):
    reply = probe(sandbox, f"def probe():\n    return open({str(SOLUTION)!r}).read()\n")
    assert reply.raised("PermissionError")
    assert reply.violations == (f"open {SOLUTION}",)


@pytest.mark.parametrize("body, refused", [
    ("open('/tmp/lossgrade-test-planted', 'w')", "only write inside its working folder"),
    ("subprocess.run(['true'])", "run a program"),
    ("socket.create_connection(('127.0.0.1', 9))", "open a socket"),
    ("open(f'/proc/{os.getppid()}/environ').read()", "look into another process"),
    ("os.kill(os.getppid(), 9)", "signal only its own process"),
    ("import ctypes; ctypes.CDLL(None).getpid()", "call C functions"),
    ("import mmap; mmap.mmap(-1, 1 << 20)", "map anonymous memory"),
    ("os.environ['SYMPY_DEBUG'] = 'print(1)'", "change the environment"),
    ("eval('1 + 1')", "run code built from text"),
    ("exec(compile('x = 1', 'ex01_mse.py', 'exec'))", "run code built from text"),
])
def test_guards_refuse_what_no_loss_function_needs(sandbox, body, refused):
    seen = report(sandbox, f"try:\n    {body}\nexcept PermissionError as exc:\n    raise ValueError(str(exc))\n")
    assert refused in seen
    assert not os.path.exists("/tmp/lossgrade-test-planted")


@pytest.mark.parametrize("call", [
    "torch.broadcast_shapes(x.shape, (2, 1, 3))",  # imports sympy, which evals its own settings
    "torch.distributions.Normal(x, 1.0).log_prob(x).sum()",
    "torch.special.xlogy(x.abs(), x.abs()).sum()",
    "torch.nn.functional.pad(x, (1, 1)).sum()",
])
def test_torch_apis_that_import_installed_modules_on_first_use_run(sandbox, call):
    """An installed module's own set-up on its lazy import may build code from text
    (sympy's settings, dataclasses): a correct file that calls such an API is not refused."""
    source = f"import torch\n\ndef probe(x):\n    return torch.as_tensor({call}).float().sum()\n"
    reply = probe(sandbox, source, torch.randn(2, 3))
    assert reply.kind == "tensor" and not reply.violations, reply


def test_writing_inside_the_working_folder_is_fine(sandbox):
    assert report(sandbox, "open('notes.txt', 'w').write('ok')\nraise ValueError(open('notes.txt').read())") == "ok"


def test_forbidden_operator_is_caught_by_any_route(sandbox):
    forbidden = ("torch.nn.functional.log_softmax", "torch.log_softmax")
    source = "import torch\n\ndef probe(x):\n    return torch.ops.aten._log_softmax(x, -1, False)\n"
    reply = probe(sandbox, source, torch.randn(2, 3), forbidden=forbidden)
    assert reply.violations == ("torch.nn.functional.log_softmax (reached through the operator aten._log_softmax)",)


OPERATOR_CALLS = {
    "_softmax": "torch.ops.aten._softmax(x, -1, False)",
    "_log_softmax": "torch._C._VariableFunctions._log_softmax(x, -1, False)",
    "logsumexp": "torch.ops.aten.logsumexp.default(x, [1])",
    "nll_loss_forward": "torch.ops.aten.nll_loss_forward(x, labels, None, 1, -100)[0]",
    "nll_loss2d_forward": "torch.ops.aten.nll_loss2d_forward(x.reshape(2, 3, 1, 1), labels.reshape(2, 1, 1), None, 1, -100)[0]",
    "mse_loss": "torch._C._nn.mse_loss(x, x * 2)",
    "huber_loss": "torch.ops.aten.huber_loss(x, x * 2, 1, 1.0)",
    "smooth_l1_loss": "torch.ops.aten.smooth_l1_loss(x, x * 2, 1, 1.0)",
    "binary_cross_entropy": "torch.ops.aten.binary_cross_entropy(x.sigmoid(), x.sigmoid(), None, 1)",
    "binary_cross_entropy_with_logits": "torch.ops.aten.binary_cross_entropy_with_logits(x, x.sigmoid(), None, None, 1)",
    "log_sigmoid_forward": "torch.ops.aten.log_sigmoid_forward(x)[0]",
    "softplus": "torch.ops.aten.softplus(x, 1, 20)",
    "_sparse_softmax": "torch.ops.aten._sparse_softmax.default(x.to_sparse(), 1, False).to_dense()",
    "_sparse_log_softmax": "torch.ops.aten._sparse_log_softmax.default(x.to_sparse(), 1, False).to_dense()",
    "_masked_softmax": "torch.ops.aten._masked_softmax(x, torch.zeros_like(x, dtype=torch.bool), 1)",
    "_safe_softmax": "torch.ops.aten._safe_softmax(torch.nested.nested_tensor([x]), 2).unbind()[0]",
    "kl_div": "torch.ops.aten.kl_div(x - x.exp().sum(1, keepdim=True).log(), x.sigmoid(), 1)",
}


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_guarded_operator_is_refused_outside_its_python_names(sandbox, operator):
    """Under inference mode too, which skips autograd's layer of the dispatcher."""
    name = OPERATORS[operator][0]
    source = ("import torch\n\ndef probe(x, labels):\n    with torch.inference_mode():\n"
              f"        return {OPERATOR_CALLS[operator]}\n")
    reply = probe(sandbox, source, torch.randn(2, 3), torch.tensor([0, 2]), forbidden=(name,))
    assert reply.violations == (f"{name} (reached through the operator aten.{operator})",)
    allowed = probe(sandbox, source, torch.randn(2, 3), torch.tensor([0, 2]))
    assert allowed.kind == "tensor" and not allowed.violations


def test_gradients_are_computed_even_where_autograd_is_forbidden(sandbox):
    forbidden = ("torch.autograd.grad", "torch.Tensor.backward", "torch.Tensor.requires_grad_")
    reply = probe(sandbox, "def probe(x):\n    return (x * x).sum()\n", torch.ones(3), forbidden=forbidden, grad_wrt=(0,))
    assert reply.kind == "tensor" and not reply.violations
    assert torch.equal(reply.grads[0], torch.full((3,), 2.0))


# --- the zygote and the connection ----------------------------------------------------------
def test_worker_that_hangs_up_but_runs_on_is_stopped(sandbox):
    source = ("import os, stat, time\n\ndef probe():\n    for fd in range(3, 64):\n        try:\n"
              "            if stat.S_ISSOCK(os.fstat(fd).st_mode):\n                os.close(fd)\n"
              "        except OSError:\n            pass\n    time.sleep(60)\n")
    started = time.monotonic()
    reply = probe(sandbox, source)
    assert reply.kind == "crashed" and "closed its connection" in reply.message
    assert time.monotonic() - started < 10


def test_worker_that_stops_reading_cannot_block_the_grader(sandbox):
    source = "import sys, time\n\ndef probe(x):\n    sys.modules['_worker'].read_frame = lambda sock: time.sleep(60)\n    return x.sum()\n"
    learner = LearnerModule(sandbox, "probe", {"probe.py": source}, ("probe",), limits=Limits(call_seconds=2))
    try:
        assert learner.call("probe", torch.ones(3)).kind == "tensor"
        started = time.monotonic()
        assert learner.call("probe", torch.ones(8 << 20)).kind == "timeout"  # 32 MB: more than a socket buffers
        assert time.monotonic() - started < 5
    finally:
        learner.close()


def test_closing_the_sandbox_ends_the_zygote_and_its_workers():
    box = Sandbox()
    learner = LearnerModule(box, "probe", {"probe.py": "import time\ntime.sleep(60)\n"}, ("probe",),
                            limits=Limits(call_seconds=0.5))
    assert learner.load().kind == "timeout"
    box.close()
    assert box._process.returncode is not None


# --- untrusted replies ------------------------------------------------------------------------
def test_an_honest_reply_comes_through_whole():
    value, grad = torch.randn(3, 2), torch.ones(3, 2)
    reply = validate(_wire.encode({"kind": "tensor", "value": value, "device": "cpu", "grads": [grad, None],
                                   "output": "hi\n", "violations": []}))
    assert reply.kind == "tensor" and torch.equal(reply.value, value) and reply.grads[1] is None
    assert reply.output == "hi\n" and reply.violations == ()


@pytest.mark.parametrize("value", [
    torch.randn(2, 3).t(), torch.ones(3).expand(2, 3), torch.arange(10)[2:5], torch.tensor(1.5, dtype=torch.float64),
    torch.zeros(0, 4), torch.tensor([True, False]), torch.randn(3, dtype=torch.bfloat16),
    torch.randn(2, dtype=torch.complex64).conj(), torch.randn(2, requires_grad=True),
    torch.ones(()).expand(1), torch.ones(()).expand(1, 1), torch.arange(3.0)[::2][:1],  # size 1, any stride
])
def test_requests_keep_every_tensor_as_it_was(value):
    sent = _wire.tensors_in(_wire.decode_request(_wire.encode_request({"args": [value], "grad_wrt": (0,)})))
    got = sent["args"][0]
    assert got.dtype == value.dtype and got.shape == value.shape
    assert [s for s, n in zip(got.stride(), got.shape) if n > 1] == [s for s, n in zip(value.stride(), value.shape) if n > 1]
    assert torch.equal(got.detach(), value.detach().resolve_conj()) and got.requires_grad == value.requires_grad
    assert sent["grad_wrt"] == (0,)


def tensor_bytes(code: int, shape: tuple[int, ...], data: bytes, flags: int = 0) -> bytes:
    """A tensor as the wire format writes it, with whatever header a forger likes."""
    return (b"t" + bytes([code, flags, len(shape)]) + b"".join(struct.pack(">q", n) for n in shape)
            + struct.pack(">q", len(data)) + data)


def reply_bytes(kind: bytes, value: bytes) -> bytes:
    """{"kind": kind, "value": <value's bytes>}."""
    return (b"d" + struct.pack(">I", 2) + b"s" + struct.pack(">I", 4) + b"kind" + b"s" + struct.pack(">I", len(kind))
            + kind + b"s" + struct.pack(">I", 5) + b"value" + value)


def nested(depth: int) -> list[object]:
    value: list[object] = [1.0]
    for _ in range(depth):
        value = [value]
    return value


def looped() -> list[object]:
    value: list[object] = []
    value.append(value)
    return value


def nested_bytes(depth: int) -> bytes:
    return (b"l" + struct.pack(">I", 1)) * depth + b"N"


@pytest.mark.parametrize("frame, why", [
    (reply_bytes(b"tensor", tensor_bytes(0, (1 << 30,), b"\0" * 4)), "a tensor of 1073741824 elements"),
    (reply_bytes(b"tensor", tensor_bytes(0, (1 << 20,), b"\0" * 4)), "sent with 4 bytes"),
    (reply_bytes(b"tensor", tensor_bytes(0, (2, -2), b"")), "negative tensor size"),
    (reply_bytes(b"tensor", tensor_bytes(99, (1,), b"\0")), "header out of range"),
    (reply_bytes(b"tensor", tensor_bytes(0, (1,), b"\0" * 4, flags=1)), "requires gradients"),
    (reply_bytes(b"tensor", b"v" + bytes(64)), "unknown tag"),
    (reply_bytes(b"python", nested_bytes(_wire.MAX_DEPTH + 1)), "nested too deep"),
    (reply_bytes(b"python", b"l" + struct.pack(">I", 1 << 31)), "too many items"),
    (reply_bytes(b"python", b"l" + struct.pack(">I", MAX_ITEMS) + b"N" * MAX_ITEMS), "too many items"),
    (reply_bytes(b"python", b"d" + struct.pack(">I", 1) + b"T" + b"N"), "dict key"),
    (reply_bytes(b"python", b"s" + struct.pack(">I", 1000) + b"short"), "past the end"),
    (reply_bytes(b"python", b"N") + b"N", "1 bytes after the message"),
    (b"\x80\x04K\x01.", "unknown tag"),  # a pickle is not read at all
    (b"", "past the end"),
    (_wire.encode({"kind": ["tensor"]}), "expected form"),
    (_wire.encode({"kind": "tensor", "value": "0.2875"}), "without a tensor"),
    (_wire.encode({"kind": "python", "value": [1.0]}), "not a number"),
    (_wire.encode({"kind": "tensor", "value": torch.ones(2), "grads": ["right"]}), "not a list of tensors"),
])
def test_replies_that_could_hurt_the_grader_are_unsafe(frame, why):
    started = time.monotonic()
    reply = validate(frame)
    assert reply.kind == "unsafe" and why in reply.message
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("value, why", [
    (1 << 80, "too large for 64 bits"), (torch.zeros(2).to_sparse(), "cannot be sent"), (object(), "cannot be sent"),
    (torch.zeros(1).expand(1 << 30), "more than the 16777216 a reply may carry"),
    (nested(_wire.MAX_DEPTH + 1), "nested too deep"), (looped(), "nested too deep"),
])
def test_a_worker_says_what_it_could_not_send(value, why):
    reply = validate(_WORKER.encode_reply({"kind": "python", "value": value, "violations": ["x"]}))
    assert reply.kind == "error" and why in reply.message and "not plain data" in reply.message
    assert reply.violations == ("x",)


def test_a_result_in_column_major_order_comes_back_as_its_values(sandbox):
    """A correct answer in an unusual memory layout is still a correct answer."""
    x = torch.randn(3, 4)
    reply = probe(sandbox, "def probe(x):\n    return x.T.contiguous().T * 2\n", x, grad_wrt=(0,))
    assert reply.kind == "tensor" and torch.equal(reply.value, x * 2)
    assert torch.equal(reply.grads[0], torch.full((3, 4), 2.0))


def test_the_gradient_of_a_sum_of_one_element_comes_back():
    """autograd gives it as a scalar expanded to (1,), "contiguous" with stride 0."""
    grad = torch.ones(()).expand(1)
    reply = validate(_WORKER.encode_reply({"kind": "tensor", "value": torch.ones(1), "grads": [grad]}))
    assert reply.kind == "tensor" and reply.grads[0].tolist() == [1.0]


def test_a_bool_tensor_holds_only_true_and_false_whatever_bytes_came():
    reply = validate(reply_bytes(b"tensor", tensor_bytes(_wire._CODES[torch.bool], (3,), b"\x00\x02\xff")))
    assert reply.kind == "tensor" and reply.value.tolist() == [False, True, True]
    assert torch.equal(reply.value, torch.tensor([False, True, True]))


def test_text_that_is_not_utf8_arrives_replaced():
    frame = b"d" + struct.pack(">I", 2) + b"s" + struct.pack(">I", 4) + b"kind" + b"s" + struct.pack(">I", 6) + b"raised"
    frame += b"s" + struct.pack(">I", 7) + b"message" + b"s" + struct.pack(">I", 3) + b"a\xffb"
    assert validate(frame).message == "a\ufffdb"


def test_a_forged_line_number_is_dropped():
    assert validate(_wire.encode({"kind": "raised", "message": "x", "line": 1 << 40})).line is None


def test_terminal_control_characters_are_removed_from_text():
    reply = validate(_wire.encode({"kind": "raised", "message": "\x1b[2J\x1b]0;pwned\x07ok\r\x9b1m", "output": "a\tb\nc\x08"}))
    assert reply.message == "[2J]0;pwnedok1m" and reply.output == "a\tb\nc"


def test_workers_die_with_their_zygote():
    box = Sandbox()
    learner = LearnerModule(box, "probe", {"probe.py": "import os\n\ndef probe():\n    raise ValueError(str(os.getpid()))\n"},
                            ("probe",))
    worker = _host_pid(box.pid, int(learner.call("probe").message))  # it sees its pid in the zygote's namespace
    os.kill(box.pid, 9)  # the zygote, killed as the grader's death would kill it
    deadline = time.monotonic() + 5
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)
    learner.close()
    box.close()


def _host_pid(root: int, inner: int) -> int:
    """The pid, as we see it, of the process below `root` whose pid in its own pid namespace
    is `inner` (the last field of NSpid; the only one where there is no namespace)."""
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        status = Path(f"/proc/{pid}/status").read_text()
        nspid = next(line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:"))
        if pid != root and int(nspid[-1]) == inner:
            return pid
        for task in os.listdir(f"/proc/{pid}/task"):
            frontier += [int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    raise AssertionError(f"no process below {root} is {inner} in its namespace")


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_every_script_of_the_sandbox_is_refused_to_learner_code_by_name() -> None:
    # The worker's siblings sit in sys.modules of every worker: the scan (refused.GRADER) and the
    # worker's import guard (_hooks.BLOCKED_IMPORTS) must both name each one, a new one too.
    from lossgrade.sandbox import host, refused
    from lossgrade.sandbox._hooks import BLOCKED_IMPORTS

    siblings = {path.stem for path in host.SANDBOX_DIR.glob("_*.py") if path.stem != "__init__"}
    assert siblings <= set(refused.GRADER), siblings - set(refused.GRADER)
    assert set(BLOCKED_IMPORTS) == set(refused.GRADER), set(BLOCKED_IMPORTS) ^ set(refused.GRADER)
