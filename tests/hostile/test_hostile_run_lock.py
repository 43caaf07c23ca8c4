"""One run at a time in a run folder; a killed run's temporary files go at once (item 2)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from model.training.engine import DatasetChecked, TrainingDone, TrainingError, train


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path, colours, head_config):
    out = tmp_path / "run"
    first = train(head_config(colours, out, epochs=1))
    assert isinstance(next(first), DatasetChecked)  # the first run holds the folder now
    with pytest.raises(
        TrainingError, match=f"is being written by another training run \\(process {os.getpid()}\\)"
    ):
        list(train(head_config(colours, out, epochs=1)))
    events = list(first)  # the first run goes on undisturbed
    assert isinstance(events[-1], TrainingDone) and events[-1].epochs_run == 1
    assert not (out / ".run.lock").exists()
    # Once it has ended, the folder is free, and holds a run: the old refusal, by name.
    with pytest.raises(TrainingError, match="already holds a training run"):
        list(train(head_config(colours, out, epochs=1)))


def test_a_run_that_fails_leaves_no_lock_and_no_empty_folder(tmp_path, head_config):
    (tmp_path / "data" / "only").mkdir(parents=True)
    out = tmp_path / "run"
    with pytest.raises(TrainingError):
        list(train(head_config(tmp_path / "data", out)))
    assert not out.exists()


def test_a_killed_runs_lock_is_free_at_once(tmp_path):
    from model.training.run_lock import RunFolderBusy, RunLock

    code = (
        "import sys, time; from model.training.run_lock import RunLock; "
        "RunLock.acquire(sys.argv[1]); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderBusy, match=f"process {holder.pid}"):
            RunLock.acquire(tmp_path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    RunLock.acquire(tmp_path).release()


def test_resume_removes_a_killed_runs_fresh_temporary_files(tmp_path, colours, head_config):
    out = tmp_path / "run"
    list(train(head_config(colours, out, epochs=1)))
    leftovers = [out / ".last.safetensors.x1y2.tmp", out / ".last.state.pt.z3.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a checkpoint")  # written just now, as by a run killed a moment ago
    unrelated = out / "notes.tmp"
    unrelated.write_text("mine")
    started = time.time()
    events = list(train(head_config(colours, out, epochs=2, resume=str(out))))
    assert events[-1].epochs_run == 1 and time.time() - started < 60
    assert [p for p in leftovers if p.exists()] == []
    assert unrelated.read_text() == "mine"
