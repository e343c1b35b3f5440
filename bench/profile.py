"""Profile the hot path of one webhook in-process with pyinstrument.

Same stores as `make bench` (embedded Redis and SQLite unless REDIS_URL/DATABASE_URL),
the app from `create_app()`, requests signed as Twilio signs them, one after another.

    python -m bench.profile [--path /voice/incoming] [--requests N] [--waiting N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import load
from bench.perf import fill_line, incoming_requests, seed
from bench.stack import AUTH_TOKEN, QUEUE, Stack


def profile(path: str, requests: int, waiting: int, workdir: Path) -> str:
    """pyinstrument's text report of `requests` signed posts to `path`."""
    from pyinstrument import Profiler

    from entrypoints.web import create_app
    with Stack(workdir) as stack:
        seed(stack)
        fill_line(stack.rt.live, QUEUE, 0, waiting, start=1.0)
        base = "http://127.0.0.1:5000"
        os.environ.update(HOLDLESS_ENV="production", SECRET_KEY="bench",
                          TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=base,
                          DATABASE_URL=stack.database_url, REDIS_URL=stack.redis_url,
                          TWILIO_API_BASE_URL=stack.standin.base_url)
        client = create_app().test_client()
        signed, sids = incoming_requests(base, requests, salt=9)
        if path != "/voice/incoming":
            for req in signed:
                _post(client, req)
            forms = (load.hold_form(s, load.caller_number(n), n + 1) for n, s in enumerate(sids))
            signed = load.sign_all(base, path, forms, AUTH_TOKEN)
        profiler = Profiler(interval=0.0005)
        start = time.perf_counter()
        with profiler:
            for req in signed:
                _post(client, req)
        spent = time.perf_counter() - start
        header = f"{requests} x {path}: {spent / requests * 1000:.2f} ms each (in-process)\n"
        return header + profiler.output_text(unicode=True, color=False, show_all=False)


def _post(client: object, req: load.Signed) -> None:
    answer = client.post(req.path, data=req.body, headers={  # type: ignore[attr-defined]
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": req.signature})
    if answer.status_code != 200:
        raise RuntimeError(f"{req.path} answered {answer.status_code}")


def main(argv: list[str] | None = None) -> int:
    """Print the profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/voice/incoming")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--waiting", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="holdless-profile-") as tmp:
        print(profile(args.path, args.requests, args.waiting, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
