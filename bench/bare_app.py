"""The ceiling for any Flask webhook: a bare app answering a fixed TwiML document.

Served by gunicorn with the Procfile's web settings (`bench.bare_app:create_app()`), it
is the baseline the webhook benchmark divides Holdless's figures by.
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Say voice="Polly.Joanna">Thank you for calling. You are number 1 in line.</Say>'
    '<Enqueue action="/voice/queue-exit" waitUrl="/voice/hold">support</Enqueue>'
    "</Response>"
)


def create_app() -> Flask:
    """A Flask app whose every POST path returns the same TwiML document."""
    app = Flask(__name__)

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        return Response(TWIML, mimetype="text/xml")

    return app
