"""Kill the sender (SIGKILL, a real subprocess) at random points, run it again: every entry once.

The emulator runs in this process, so it outlives every killed sender; it answers after a
latency, which leaves a window in which QuickBooks has committed a batch the sender never
heard about.
"""

import random
import signal
import subprocess
import sys
import time

import pytest
from qbo_support import make_batch, markers_in

from qbrecon import schema as S
from qbrecon.ledger import Ledger
from qbrecon.qbo.emulator import QBOEmulator
from qbrecon.qbo.send import marker_for

ROUNDS = 10


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_gives_every_entry_exactly_once(tmp_path):
    rng = random.Random(5)
    # 40 batch requests: the most one sender makes without waiting for QuickBooks' per-minute
    # limit, and enough work that every round has something left to interrupt
    batch = make_batch(1200)
    path = tmp_path / "batch.csv"
    out = batch.copy()
    out[S.TXN_DATE] = out[S.TXN_DATE].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)
    ledger = tmp_path / "ledger.sqlite"
    with QBOEmulator(seed="builtin", limits=None, latency=0.05, remember_request_ids=False) as emu:
        token_file = emu.write_token_file(tmp_path / "tokens.json")
        cmd = [
            sys.executable,
            "-m",
            "qbrecon",
            "send",
            str(path),
            "--ledger",
            str(ledger),
            "--token-file",
            str(token_file),
            "--no-progress",
        ]
        kills = 0
        for _ in range(ROUNDS):
            before = emu.stats["api_requests"]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if rng.random() < 0.25:  # anywhere: start-up, the lookups, the planning, a send
                deadline = time.monotonic() + rng.uniform(0.2, 0.8)
                while proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.005)
            else:  # just after the k-th request reached QuickBooks
                target = before + rng.randint(1, 4)
                while proc.poll() is None and emu.stats["api_requests"] < target:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0.0, 0.05))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=60)
            # a duplicate can never be taken back by a later run: check after every round
            assert not markers_in(emu).duplicated().any()
        final = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stdout + final.stderr
        assert kills >= ROUNDS // 2

        tas = emu.time_activities()
        marks = markers_in(emu)
        assert len(tas) == len(batch), "an entry is missing or doubled"
        assert not marks.duplicated().any()
        with Ledger(ledger) as led:
            d = led.deliveries()
            runs = led.runs()
        assert len(d) == len(batch) and (d["state"] == "sent").all()
        assert set(marks) == {marker_for(r) for r in d["request_id"]}
        assert set(tas["qbo_id"]) == set(d["external_id"])
        # the killed runs were closed as interrupted by the runs after them
        assert set(runs["status"]) <= {"finished", "interrupted"}
        assert runs["status"].iloc[-1] == "finished"
        assert 1 <= (runs["status"] == "interrupted").sum() <= kills
