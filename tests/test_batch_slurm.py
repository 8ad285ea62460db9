"""``openpcf batch --slurm N``: real dask-jobqueue, real Dask workers, a stand-in SLURM.

Only the SLURM daemon is stood in for: :func:`slurm` writes executable ``sbatch``, ``scancel``
and ``squeue`` into a temporary folder put first on PATH. ``sbatch SCRIPT`` keeps a copy of the
job script dask-jobqueue wrote (``<id>.sh``), starts it with ``bash`` as a new process group
(session), records the PID (``<id>.pid``) and answers ``Submitted batch job <id>``, the line
dask-jobqueue 0.9 parses (``Job.job_id_regexp``, ``\\d+``). ``scancel ID`` marks the job
cancelled (``<id>.cancelled``) and ends its process group: SIGTERM, SIGKILL after 10 s. The
mode in ``$SLURM_SHIM_MODE`` makes ``sbatch`` accept and run (``run``), accept and never run
(``never``: workers that never start) or refuse (``reject``: an unknown partition).

The numbers are those of ``tests/test_batch.py`` (``two_process.yaml``):
total(power, sheet_mass) = 2 * sheet_mass + 0.7252 * power + 0.0298, so power 3, 10, 1 at
sheet_mass 2 give 6.2054, 11.2818 and 4.755 kg CO2e.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.in_process import openpcf
from openpcf.services.batch import BatchError, BatchOptions, read_batch, run_batch
from openpcf.services.batch_slurm import SlurmConfig, read_slurm_config, run_batch_on_slurm

# Not importorskip: importing dask-jobqueue would replace pytest's Ctrl-C handler (see
# openpcf.services.batch_slurm); the service imports it and puts the handler back.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("dask_jobqueue") is None, reason="needs the dask extra"
)

FIXTURE = Path(__file__).parent / "fixtures" / "two_process.yaml"
EXPECTED = {"a_base": 6.2054, "b_power10": 11.2818, "c_power1": 4.755}

SBATCH = """\
import fcntl, os, subprocess, sys
from pathlib import Path

state = Path({state!r})
mode = os.environ.get("SLURM_SHIM_MODE", "run")
if mode == "reject":
    sys.exit("sbatch: error: invalid partition specified: nope")
script = Path(sys.argv[1]).read_text() if len(sys.argv) > 1 else sys.stdin.read()
with open(state / "lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    last = state / "last-id"
    job = int(last.read_text()) + 1 if last.exists() else 1001
    last.write_text(str(job))
(state / f"{{job}}.sh").write_text(script)
if mode == "run":
    with open(state / f"{{job}}.out", "w") as out:
        proc = subprocess.Popen(
            ["bash", str(state / f"{{job}}.sh")],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, env={{**os.environ, "SLURM_JOB_ID": str(job)}},
        )
    (state / f"{{job}}.pid-new").write_text(str(proc.pid))
    (state / f"{{job}}.pid-new").rename(state / f"{{job}}.pid")  # whole, or not there
print(f"Submitted batch job {{job}}")
"""

ALIVE = """\
def alive(group):
    \"\"\"Whether a process of process group ``group`` is running (zombies are not).\"\"\"
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False
"""

SCANCEL = """\
import os, signal, sys, time
from pathlib import Path

state = Path({state!r})
{alive}
for job in sys.argv[1:]:
    (state / f"{{job}}.cancelled").write_text("")
    pid = state / f"{{job}}.pid"
    if not pid.exists():
        continue
    group = int(pid.read_text())
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if not alive(group):
            break
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + grace
        while alive(group) and time.monotonic() < end:
            time.sleep(0.05)
"""

SQUEUE = """\
from pathlib import Path

state = Path({state!r})
{alive}
print("JOBID PARTITION NAME ST")
for pid in sorted(state.glob("*.pid")):
    if alive(int(pid.read_text())):
        print(pid.stem, "debug", "openpcf-batch", "R")
"""


def alive(group: int) -> bool:
    """Whether a process of process group ``group`` is running (the shims' test, here)."""
    scope: dict[str, object] = {"Path": Path}
    exec(ALIVE, scope)
    return bool(scope["alive"](group))  # type: ignore[operator]


class Slurm:
    """The stand-in's state folder: job scripts, PIDs and cancellations by job id."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def jobs(self) -> list[str]:
        return sorted(p.stem for p in self.state.glob("*.sh"))

    def script(self, job: str) -> str:
        return (self.state / f"{job}.sh").read_text()

    def groups(self) -> list[int]:
        return [int(p.read_text()) for p in sorted(self.state.glob("*.pid"))]

    def cancelled(self) -> list[str]:
        return sorted(p.stem for p in self.state.glob("*.cancelled"))


@pytest.fixture
def slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Slurm]:
    """``sbatch``/``scancel``/``squeue`` first on PATH; any job left running is ended after."""
    bin_dir, state = tmp_path / "slurm-bin", tmp_path / "slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in (("sbatch", SBATCH), ("scancel", SCANCEL), ("squeue", SQUEUE)):
        shim = bin_dir / name
        body = text.format(state=str(state), alive=ALIVE)
        shim.write_text(f"#!{sys.executable}\n{body}")
        shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_SHIM_MODE", "run")
    stand_in = Slurm(state)
    yield stand_in
    for group in stand_in.groups():  # a failed test must not leave workers behind
        if alive(group):
            os.killpg(group, signal.SIGKILL)


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    """The fixture at power 3, 10 and 1, and a model file that does not parse."""
    folder = tmp_path / "models"
    folder.mkdir()
    text = FIXTURE.read_text(encoding="utf-8")
    for name, power in (("a_base", 3), ("b_power10", 10), ("c_power1", 1)):
        model = text.replace("  power: 3\n", f"  power: {power}\n")
        (folder / f"{name}.yaml").write_text(model, encoding="utf-8")
    (folder / "d_broken.yaml").write_text("product: [unclosed\n", encoding="utf-8")
    return folder


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "slurm.yaml"
    path.write_text(text, encoding="utf-8")
    return path


CONFIG = """\
partition: debug
account: pcf-project
walltime: "00:20:00"
memory: 3GiB
prologue:
  - export OPENPCF_SLURM_TEST=1
"""


@pytest.mark.slow
def test_two_jobs_match_processes_and_leave_nothing_running(
    slurm: Slurm, model_folder: Path, tmp_path: Path
) -> None:
    """2 jobs give the local run's results; the script carries the options; all jobs end."""
    local = run_batch(read_batch(model_folder), BatchOptions(), workers=1)
    config = write_config(tmp_path, CONFIG)
    out = openpcf(
        "batch", str(model_folder), "--slurm", "2", "--slurm-config", str(config), "--json"
    )
    assert out.returncode == 1, out.stderr  # d_broken failed, the rest were calculated
    data = json.loads(out.stdout)
    assert data["executor"] == "2 SLURM jobs"
    assert data["workers"] == 2
    assert data["items"] == [r.to_dict() for r in local.items]
    assert data["failed"] == 1
    by_id = {r["id"]: r for r in data["items"]}
    for name, kg in EXPECTED.items():
        assert by_id[name]["kg_co2e"] == pytest.approx(kg, rel=1e-12)
    assert by_id["d_broken"]["error"]

    assert slurm.jobs() == ["1001", "1002"]
    script = slurm.script("1001")
    for line in (
        "#SBATCH -J openpcf-batch",
        "#SBATCH -p debug",
        "#SBATCH -A pcf-project",
        "#SBATCH -t 00:20:00",
        "#SBATCH --mem=3G",
        "#SBATCH --cpus-per-task=1",
        "export OPENPCF_SLURM_TEST=1",
        "distributed.cli.dask_worker tcp://127.0.0.1:",
    ):
        assert line in script, line
    assert slurm.cancelled() == ["1001", "1002"]
    assert len(slurm.groups()) == 2
    assert not any(alive(g) for g in slurm.groups())
    for job in slurm.jobs():  # the workers and their nannies listened on loopback only
        log = (slurm.state / f"{job}.out").read_text()
        listening = re.findall(r"(?:Start Nanny at|Listening to): *'?(\S+?)'?$", log, re.M)
        assert len(listening) == 2, log
        assert all(a.startswith("tcp://127.0.0.1:") for a in listening), listening


def test_workers_that_never_start_time_out_and_are_cancelled(
    slurm: Slurm, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_SHIM_MODE", "never")
    out = openpcf("batch", str(model_folder), "--slurm", "2", "--timeout", "1", "--json")
    assert out.returncode == 2
    assert "0 of 2 Dask workers connected within 1 s, so the jobs were cancelled" in out.stderr
    assert "Traceback" not in out.stderr
    assert slurm.cancelled() == ["1001", "1002"]


def test_refused_job_says_what_sbatch_said(
    slurm: Slurm, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_SHIM_MODE", "reject")
    out = openpcf("batch", str(model_folder), "--slurm", "1", "--timeout", "60")
    assert out.returncode == 2
    assert "sbatch refused the job: sbatch: error: invalid partition specified" in out.stderr
    assert slurm.jobs() == []


def test_ctrl_c_cancels_the_jobs(slurm: Slurm, model_folder: Path, tmp_path: Path) -> None:
    """SIGINT while waiting for a job whose prologue sleeps: exit 130, its processes end."""
    config = write_config(tmp_path, "prologue: [sleep 600]\n")
    command = [sys.executable, "-m", "openpcf", "batch", str(model_folder), "--json"]
    command += ["--slurm", "1", "--slurm-config", str(config), "--timeout", "300"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid_file = slurm.state / "1001.pid"
        for _ in range(600):  # the job starts within a minute even on a loaded machine
            if pid_file.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert pid_file.exists(), proc.communicate(timeout=60)
        assert alive(int(pid_file.read_text()))
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr  # typer's exit code for Ctrl-C (128 + SIGINT)
    assert "Traceback" not in stderr, stderr
    assert slurm.cancelled() == ["1001"]
    assert not alive(int(pid_file.read_text()))


def test_no_sbatch_on_path(model_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    out = openpcf("batch", str(model_folder), "--slurm", "1")
    assert out.returncode == 2
    assert "no sbatch or scancel on PATH" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slurm", "0"], "--slurm 0: give a number of jobs from 1 to 1000"),
        (["--slurm", "1", "--scheduler", "tcp://127.0.0.1:1"], "give one of them"),
        (["--slurm", "1", "--workers", "2"], "drop it with --slurm"),
        (["--slurm-config", "x.yaml"], "add --slurm"),
        (["--slurm", "1", "--timeout", "0"], "--timeout 0: give a number of seconds above 0"),
    ],
)
def test_bad_options(slurm: Slurm, model_folder: Path, args: list[str], message: str) -> None:
    out = openpcf("batch", str(model_folder), *args)
    assert out.returncode == 2
    assert message in " ".join(re.sub(r"[\u2500-\u257f]", " ", out.stderr).split())  # unboxed
    assert slurm.jobs() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("partiton: debug\n", "partiton"),
        ('partition: "debug\\n#SBATCH --x"\n', "partition"),
        ("walltime: soon\n", "walltime"),
        ("memory: lots\n", "memory"),
        ("cores: 0\n", "cores"),
        ('prologue: ["a\\nb"]\n', "line break"),
        ("- partition\n", "a SLURM settings file is a YAML mapping"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(BatchError, match=message) as e:
        read_slurm_config(path)
    assert str(path) in str(e.value)


def test_config_defaults_and_values(tmp_path: Path) -> None:
    assert SlurmConfig() == SlurmConfig(walltime="00:30:00", cores=1, memory="2GiB")
    config = read_slurm_config(write_config(tmp_path, CONFIG))
    assert (config.partition, config.account, config.memory) == ("debug", "pcf-project", "3GiB")
    assert config.prologue == ("export OPENPCF_SLURM_TEST=1",)


def test_service_rejects_bad_jobs_before_starting(slurm: Slurm, model_folder: Path) -> None:
    with pytest.raises(BatchError, match="--slurm 1001: give a number of jobs from 1 to 1000"):
        run_batch_on_slurm(read_batch(model_folder), BatchOptions(), jobs=1001)
    assert slurm.jobs() == []
