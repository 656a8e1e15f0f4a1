"""`lossgrade grade --shard i/N` and `lossgrade merge`: shards graded as separate processes
and merged equal one run, byte for byte (records' timings aside), on the sample class and on
a generated class of 200; shards are stable and balanced; every refusal is one line, exit 2."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lossgrade.grading import runner
from lossgrade.grading import shard as shards
from lossgrade.output.merge import untimed
from lossgrade.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample-class"
CORRECT = (REPO / "solutions" / "ex01_mse.py").read_text(encoding="utf-8")
SUM_NOT_MEAN = CORRECT.replace("return squared.mean()", "return squared.sum()")


def classgen() -> Any:
    spec = importlib.util.spec_from_file_location("classgen", REPO / "bench" / "classgen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SECRET = Path(tempfile.mkdtemp(prefix="lossgrade-shard-secret-")) / "secret"  # one for every run of these tests


def invoke(*args: str) -> tuple[int, str, str]:
    """`lossgrade ARGS`; a grade of a class gets the shared grading secret, as every shard and
    the one run they are compared with must (unless the test gives its own)."""
    if args[:1] == ("grade",) and "--secret" not in args:
        args = (*args, "--secret", str(SECRET))
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def exit_code_for(summary: str) -> int:
    """What `grade` and `merge` exit with for this output: 1 when a submission was rejected."""
    return 1 if re.search(r" [1-9][0-9]* rejected", summary) else 0


def grade_shards_as_processes(folder: Path, results: Path, count: int, *options: str) -> list[Path]:
    """Every shard of `folder`, each graded by its own `lossgrade grade --shard i/count`
    process, all at once (as N machines would)."""
    outs = [results / f"shard-{index}" for index in range(1, count + 1)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes = [subprocess.Popen([sys.executable, "-m", "lossgrade", "grade", str(folder), "--out", str(out),
                                   "--shard", f"{index}/{count}", "--jobs", "1", "--secret", str(SECRET), *options],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for index, out in enumerate(outs, start=1)]
    for index, process in enumerate(processes, start=1):
        stdout, stderr = process.communicate(timeout=900)
        assert process.returncode == exit_code_for(stdout), (stdout, stderr)
        assert f"Shard {index}/{count}: " in stdout
    return outs


def tree(out: Path) -> dict[str, bytes]:
    """Every file of a results folder but a shard's manifest; a record without its timings."""
    files = {}
    for path in sorted(out.rglob("*")):
        name = path.relative_to(out).as_posix()
        if path.is_file() and name != shards.MANIFEST:
            data = path.read_bytes()
            if name.startswith("records/"):
                data = json.dumps(untimed(json.loads(data)), sort_keys=True).encode()
            files[name] = data
    return files


def assert_same_results(merged: Path, single: Path) -> None:
    ours, theirs = tree(merged), tree(single)
    assert sorted(ours) == sorted(theirs)
    for name in ours:  # named, so that a difference says where
        assert (name, ours[name]) == (name, theirs[name])


# ------------------------------------------------------------------- shards themselves
@pytest.mark.parametrize("text, spec", [("1/1", (1, 1)), ("3/8", (3, 8)), (" 2 / 4 ", (2, 4))])
def test_a_shard_is_i_of_n_counted_from_1(text, spec):
    parsed = shards.parse(text)
    assert (parsed.index, parsed.count) == spec and str(parsed) == f"{spec[0]}/{spec[1]}"


@pytest.mark.parametrize("text, message", [
    ("0/4", "shards are numbered from 1 to 4"), ("5/4", "shards are numbered from 1 to 4"),
    ("1/0", "the number of shards must be at least 1"), ("2", "is not of the form i/N"),
    ("a/b", "is not of the form i/N"), ("-1/4", "is not of the form i/N"), ("1/4/2", "is not of the form i/N"),
])
def test_a_bad_shard_is_a_usage_error_naming_the_fix(tmp_path, text, message):
    code, stdout, stderr = invoke("grade", str(SAMPLE), "--out", str(tmp_path / "out"), "--shard", text)
    assert code == 2 and stdout == ""
    assert "Invalid value for '--shard'" in stderr and message in stderr
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_a_learner_is_in_one_shard_decided_by_the_id_alone():
    ids = ["ada", "Ada", "learner0001", "zoë", "名前", "a b", "x" * 200]
    for count in (1, 2, 3, 8, 100):
        for learner in ids:
            owners = [index for index in range(1, count + 1) if shards.Spec(index, count).owns(learner)]
            assert owners == [shards.shard_of(learner, count)]
    # pinned: a change of the hash would move learners to other shards, and shards graded by
    # two versions could no longer be merged or resumed
    assert [shards.shard_of(learner, 8) for learner in ("ada", "ben", "learner0001", "zoë")] == [7, 7, 2, 6]


@pytest.mark.parametrize("size", [200, 1000])
@pytest.mark.parametrize("count", [2, 4, 8])
def test_shards_are_balanced_on_generated_classes(size, count):
    """As balanced as independent hashing allows: each shard within 4 standard deviations
    of size/count (the figures are in docs/SCALE.md)."""
    sizes = Counter(shards.shard_of(f"learner{n:04d}", count) for n in range(1, size + 1))
    mean = size / count
    assert sorted(sizes) == list(range(1, count + 1))
    assert all(abs(sizes[index] - mean) <= 4 * math.sqrt(mean) for index in sizes), sizes


# --------------------------------------------------------- shards merged equal one run
def test_the_sample_class_in_shards_merged_equals_one_run(tmp_path):
    single = tmp_path / "single"
    code, stdout, _ = invoke("grade", str(SAMPLE), "--out", str(single), "--jobs", "2", "--junit")
    assert code == 0, stdout
    outs = grade_shards_as_processes(SAMPLE, tmp_path, 3, "--junit")
    owned = [json.loads((out / shards.MANIFEST).read_text())["learners"] for out in outs]
    assert sorted(e["learner"] for learners in owned for e in learners) == sorted(p.name.removesuffix(".zip")
                                                                               for p in SAMPLE.iterdir())
    code, stdout, stderr = invoke("merge", *map(str, reversed(outs)), "--out", str(tmp_path / "merged"), "--junit")
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[-1].startswith("Merged 3 shards of 3: 14 graded, 0 rejected, ")  # after the notes
    assert_same_results(tmp_path / "merged", single)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """A generated class of 200 (ex01 and the quizzes), graded once and in 4 shards."""
    root = tmp_path_factory.mktemp("generated")
    folder = root / "class"
    classgen().generate(folder, 200, seed=3, files=("ex01_mse.py",))
    with zipfile.ZipFile(folder / "learner0007.zip", "w") as archive:  # learner0007/ too: claimed twice
        archive.writestr("ex01_mse.py", CORRECT)
    (folder / "learner0200.zip").write_bytes(b"not a zip")  # a corrupt zip
    code, stdout, _ = invoke("grade", str(folder), "--out", str(root / "single"), "-e", "ex01", "--jobs", "2")
    assert code == 1 and "198 graded, 2 rejected (learner0007, learner0200: why above)" in stdout, stdout
    return folder, root / "single", grade_shards_as_processes(folder, root, 4, "-e", "ex01")


def test_a_generated_class_of_200_in_4_shards_merged_equals_one_run(generated, tmp_path):
    _, single, outs = generated
    code, stdout, stderr = invoke("merge", *map(str, outs), "--out", str(tmp_path / "merged"))
    assert (code, stderr) == (1, "")  # two submissions could not be graded: as the one run exits
    assert_same_results(tmp_path / "merged", single)
    lines = stdout.splitlines()
    # each problem once, from the shard that owns the learner id
    assert sum("learner0007/ and learner0007.zip both claim" in line for line in lines) == 1
    assert sum(line.startswith("learner0200.zip: not graded") for line in lines) == 1
    assert lines[-1].startswith("Merged 4 shards of 4: 198 graded, 2 rejected (learner0007, learner0200: why above), ")
    sizes = [len(json.loads((out / shards.MANIFEST).read_text())["learners"]) for out in outs]
    assert sum(sizes) == 200 and all(35 <= size <= 65 for size in sizes), sizes


def test_a_shard_run_again_finds_its_own_learners_and_grades_nothing(generated, tmp_path):
    folder, _, outs = generated
    again = tmp_path / "again"
    shutil.copytree(outs[1], again)
    before = json.loads((again / shards.MANIFEST).read_text())
    code, stdout, _ = invoke("grade", str(folder), "--out", str(again), "-e", "ex01", "--shard", "2/4")
    assert code == exit_code_for(stdout) and f"(0 graded now, {len(before['learners'])} unchanged)" in stdout
    assert json.loads((again / shards.MANIFEST).read_text()) == before


def test_merge_refuses_a_missing_shard_and_a_folder_that_is_no_shard(generated, tmp_path):
    _, single, outs = generated
    code, stdout, stderr = invoke("merge", str(outs[0]), str(outs[1]), str(outs[3]), "--out", str(tmp_path / "m"))
    assert (code, stdout) == (2, "")
    assert stderr == "Error: shard 3/4 of 4 is missing: give the results folder of every shard from 1/4 to 4/4\n"
    code, _, stderr = invoke("merge", *map(str, outs), str(single), "--out", str(tmp_path / "m"))
    assert code == 2 and stderr.startswith(f"Error: {single} holds no shard.json: it is not the results of a finished")
    assert len(stderr.splitlines()) == 1 and not (tmp_path / "m").exists()
    code, _, stderr = invoke("merge", *map(str, outs), "--out", str(outs[0]))
    assert code == 2 and stderr == f"Error: {outs[0]} is one of the shards: merge into a new folder with --out\n"


def test_merge_refuses_shards_of_other_splits_graders_or_a_changed_record(generated, tmp_path):
    _, _, outs = generated
    copies = [tmp_path / out.name for out in outs]
    for out, copy in zip(outs, copies):
        shutil.copytree(out, copy)
    manifest = copies[2] / shards.MANIFEST
    original = json.loads(manifest.read_text())

    def refused(**changes: Any) -> str:
        manifest.write_text(json.dumps({**original, **changes}))
        code, stdout, stderr = invoke("merge", *map(str, copies), "--out", str(tmp_path / "m"))
        assert (code, stdout) == (2, "") and len(stderr.splitlines()) == 1
        return stderr

    assert "come from different splits: merge the 4 shards of one split" in refused(shard=3, of=5)
    assert "were graded by different versions of lossgrade or of the course" in refused(fingerprint="0" * 16 + ":ex01")
    theirs = original["learners"][0]["learner"]
    stolen = [*original["learners"], *json.loads((copies[0] / shards.MANIFEST).read_text())["learners"][:1]]
    assert "who belongs to shard 1/4" in refused(learners=stolen)
    assert f"the record of {theirs!r} is missing or changed since the shard was graded" in \
        refused(learners=[{"learner": theirs, "digest": "0" * 64}])
    manifest.write_text("{not json")
    code, _, stderr = invoke("merge", *map(str, copies), "--out", str(tmp_path / "m"))
    assert code == 2 and "cannot be read" in stderr and "grade the shard again" in stderr


# ------------------------------------------------------ small classes, real refusals
def small_class(root: Path, ben: str = SUM_NOT_MEAN) -> Path:
    folder = root / "class"
    for learner, source in (("ada", CORRECT), ("ben", ben), ("cleo", CORRECT)):
        (folder / learner).mkdir(parents=True, exist_ok=True)
        (folder / learner / "ex01_mse.py").write_text(source)
    return folder


def test_merge_refuses_shards_that_graded_different_exercises_or_disagree_on_a_learner(tmp_path):
    folder = small_class(tmp_path)
    owner = shards.shard_of("ben", 2)
    other = 3 - owner
    assert invoke("grade", str(folder), "--out", str(tmp_path / "a"), "-e", "ex01", "--shard", f"{owner}/2")[0] == 0
    assert invoke("grade", str(folder), "--out", str(tmp_path / "b"), "-e", "ex01", "--shard", f"{other}/2")[0] == 0
    assert invoke("grade", str(folder), "--out", str(tmp_path / "c"), "-e", "ex01", "-e", "ex02",
                  "--shard", f"{other}/2")[0] == 0
    code, _, stderr = invoke("merge", str(tmp_path / "a"), str(tmp_path / "c"), "--out", str(tmp_path / "m"))
    assert code == 2
    assert stderr == (f"Error: {tmp_path / 'a'} (shard {owner}/2) graded ex01 but {tmp_path / 'c'} (shard {other}/2) "
                      "graded ex01, ex02: grade every shard with the same --exercise options\n")
    (folder / "ben" / "ex01_mse.py").write_text(CORRECT)  # ben resubmits; his shard is graded again elsewhere
    assert invoke("grade", str(folder), "--out", str(tmp_path / "a2"), "-e", "ex01", "--shard", f"{owner}/2")[0] == 0
    code, _, stderr = invoke("merge", str(tmp_path / "a"), str(tmp_path / "a2"), str(tmp_path / "b"),
                             "--out", str(tmp_path / "m"))
    assert code == 2
    assert stderr == (f"Error: 'ben' is in {tmp_path / 'a'} (shard {owner}/2) and in {tmp_path / 'a2'} "
                      f"(shard {owner}/2) with different results: merge one of them\n")
    # a learner handed in late, after shard {other}/2 was graded: the shards saw different classes
    (folder / "dan").mkdir()
    (folder / "dan" / "ex01_mse.py").write_text(CORRECT)
    assert invoke("grade", str(folder), "--out", str(tmp_path / "a3"), "-e", "ex01", "--shard", f"{owner}/2")[0] == 0
    code, _, stderr = invoke("merge", str(tmp_path / "a3"), str(tmp_path / "b"), "--out", str(tmp_path / "m"))
    assert code == 2
    assert stderr == (f"Error: the class folder held different entries when {tmp_path / 'a3'} (shard {owner}/2) (4) "
                      f"and {tmp_path / 'b'} (shard {other}/2) (3) were graded: a learner was added or removed in "
                      "between; grade every shard again (each regrades only what changed)\n")
    # the same shard twice, with the same results, is no conflict
    code, stdout, _ = invoke("merge", str(tmp_path / "a"), str(tmp_path / "a"), str(tmp_path / "b"),
                             "--out", str(tmp_path / "m"))
    assert code == 0 and "3 graded, 0 rejected" in stdout


def test_empty_shards_merge_too(tmp_path):
    folder = small_class(tmp_path)
    outs = []
    for index in range(1, 9):
        out = tmp_path / f"s{index}"
        code, stdout, _ = invoke("grade", str(folder), "--out", str(out), "-e", "ex01", "--shard", f"{index}/8")
        assert code == 0
        if not json.loads((out / shards.MANIFEST).read_text())["learners"]:
            assert stdout == (f"Shard {index}/8: no learner of {folder} falls in this shard; wrote an empty gradebook "
                              f"and shard.json in {out}/, for `lossgrade merge`.\n")
        outs.append(out)
    assert invoke("grade", str(folder), "--out", str(tmp_path / "single"), "-e", "ex01")[0] == 0
    assert invoke("merge", *map(str, outs), "--out", str(tmp_path / "m"))[0] == 0
    assert_same_results(tmp_path / "m", tmp_path / "single")


def test_an_unsharded_run_or_an_interrupted_shard_leaves_no_manifest(tmp_path):
    folder = small_class(tmp_path)
    out = tmp_path / "out"
    assert invoke("grade", str(folder), "--out", str(out), "-e", "ex01", "--shard", "1/1")[0] == 0
    assert (out / shards.MANIFEST).is_file()
    assert invoke("grade", str(folder), "--out", str(out), "-e", "ex01")[0] == 0
    assert not (out / shards.MANIFEST).exists()  # one run's folder now: no stale shard of another split


def test_a_grader_failure_travels_in_the_manifest_and_the_merge_fails_like_one_run(tmp_path, monkeypatch):
    """A record the run does not keep (the grader failed on it, so the next run tries again)
    is in the manifest: the merge shows the same error row as one run, and exits 1 like it."""
    from lossgrade.grading import pool, submission

    if "cuda" in runner.devices():
        pytest.skip("the graders must be forked to inherit the patch below, and with a GPU a process forked "
                    "from this test session can run no backward")
    monkeypatch.setattr(pool, "start_method", lambda: "fork")
    real = submission.grade

    def bug(*args: Any) -> Any:
        raise RuntimeError("a bug in lossgrade")

    monkeypatch.setattr(submission, "grade", lambda box, sub, exercises: (bug if sub.learner == "ben" else real)(
        box, sub, exercises))
    folder = small_class(tmp_path)
    assert invoke("grade", str(folder), "--out", str(tmp_path / "single"), "-e", "ex01", "--jobs", "1")[0] == 1
    outs = [tmp_path / f"s{index}" for index in (1, 2)]
    for index, out in enumerate(outs, start=1):
        invoke("grade", str(folder), "--out", str(out), "-e", "ex01", "--jobs", "1", "--shard", f"{index}/2")
    code, stdout, _ = invoke("merge", *map(str, outs), "--out", str(tmp_path / "m"))
    assert code == 1
    assert "grader failure: ben: the grader failed on this submission (RuntimeError: a bug in lossgrade)" in stdout
    assert_same_results(tmp_path / "m", tmp_path / "single")
    assert not (tmp_path / "m" / "records" / "ben.json").exists()


def test_a_shard_without_the_shared_grading_secret_is_a_usage_error(tmp_path: Path) -> None:
    """Shards graded with different secrets draw different hidden inputs and could never be
    merged: --shard wants the one --secret file every shard reads."""
    result = CliRunner().invoke(cli, ["grade", str(SAMPLE), "--out", str(tmp_path / "out"), "--shard", "1/2"])
    assert result.exit_code == 2 and "--shard needs --secret FILE" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_grading_secret_given_is_made_once_and_read_by_every_shard(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    for learner in ("ada", "ben", "cleo"):
        (folder / learner).mkdir(parents=True)
        (folder / learner / "ex01_mse.py").write_text(CORRECT)
    secret_file = tmp_path / "shared" / "secret"
    for index in (1, 2):
        code, _, _ = invoke("grade", str(folder), "--out", str(tmp_path / f"s{index}"), "-e", "ex01",
                            "--shard", f"{index}/2", "--secret", str(secret_file))
        assert code == 0
    made = secret_file.read_text()
    assert len(bytes.fromhex(made.strip())) == 32 and oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / "s1" / "lossgrade-secret").exists() and not (tmp_path / "s2" / "lossgrade-secret").exists()
    assert invoke("merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "merged"))[0] == 0
