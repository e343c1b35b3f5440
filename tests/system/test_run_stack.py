"""`holdless run` (what `make run` starts) serves /voice/incoming to a signed POST."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_banner(proc: subprocess.Popen[str], deadline: float) -> str:
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        seen += line
        if "Listening at" in line or "Booting worker" in line:
            return seen
        if proc.poll() is not None:
            break
    raise AssertionError(f"stack did not start:\n{seen}")


def _post_when_up(url: str, form: dict[str, str], headers: dict[str, str]) -> requests.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            return requests.post(url, data=form, headers=headers, timeout=30)
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_run_on_the_port_in_PORT_prints_signs_and_serves_there_and_answers_a_signed_call(
        tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL")}
    env.update(HOLDLESS_INSTANCE_PATH=str(tmp_path / "instance"), HOLDLESS_ENV="development",
               WEB_CONCURRENCY="1", PORT=str(port))  # as `PORT=5077 make run` does
    holdless = Path(sys.executable).with_name("holdless")
    proc = subprocess.Popen([str(holdless), "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        banner = _wait_for_banner(proc, time.monotonic() + STARTUP_SECONDS)
        token = re.search(r"Twilio auth token in use: (\w+)", banner).group(1)
        assert f"Holdless is running: http://127.0.0.1:{port}/" in banner
        assert f"http://127.0.0.1:{port}/voice/incoming" in banner
        assert re.search(r"sign in as alice / \S+", banner)
        url = f"http://127.0.0.1:{port}/voice/incoming"
        form = {"CallSid": "CA" + "1" * 32, "From": "+12125550123", "To": "+12125550000"}
        signature = RequestValidator(token).compute_signature(url, form)
        answer = _post_when_up(url, form, {"X-Twilio-Signature": signature})
        assert answer.status_code == 200
        assert "<Gather" in answer.text and "For Sales, press 1." in answer.text
        unsigned = requests.post(url, data=form, timeout=30)
        assert unsigned.status_code == 403
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
