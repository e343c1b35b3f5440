"""Recorded prompts for languages Twilio has no voice for (Estonian): each sentence is
played with <Play> from audio the app serves, never read by a voice of another language.

A sentence's audio is, first, a recording an admin added for exactly that sentence
(`holdless prompts add`); else one generated on this machine by espeak-ng, at setup for
every fixed sentence of the catalog (`holdless prompts build`) or on first use for a
sentence with figures in it. Files live under <instance>/prompts/<tag>/<key>.wav.

Twilio fetches <Play> media with a plain GET (www.twilio.com/docs/voice/twiml/play), so
the address carries the sentence and an HMAC of it under the account's auth token (which
web and worker share): nobody else can make the app speak.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from holdless import paths

# espeak-ng's voice for each language we play recorded (espeak-ng --voices).
ESPEAK_VOICES = {"et-EE": "et"}
SYNTH_TIMEOUT_SECONDS = 10
# The longest sentence a prompt address may carry (characters).
MAX_TEXT = 1000
# Sentence ends: each sentence is its own prompt, so a recording of a fixed sentence is
# played even inside an announcement that also holds figures.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class PromptMissing(LookupError):
    """No recording of a sentence exists and none can be generated here; says why."""


def sentences(text: str) -> list[str]:
    """`text` cut into sentences (each played as its own prompt)."""
    return [part for part in SENTENCE_END.split(text.strip()) if part]


def key(tag: str, text: str) -> str:
    """The file name (without .wav) of the prompt of `text` in language `tag`."""
    return hashlib.sha256(f"{tag}\n{text}".encode()).hexdigest()[:32]


def signature(secret: str, tag: str, text: str) -> str:
    """The HMAC that lets a prompt address be served (see the module's note)."""
    return hmac.new(secret.encode(), f"prompt:{tag}\n{text}".encode(),
                    hashlib.sha256).hexdigest()


def url_builder(base_url: str, secret: str) -> Callable[[str, str], str]:
    """A function giving the signed address of the prompt of (tag, text) under `base_url`."""
    def build(tag: str, text: str) -> str:
        query = urlencode({"text": text, "sig": signature(secret, tag, text)})
        return f"{base_url}{paths.PROMPT_PREFIX}/{tag}/{key(tag, text)}.wav?{query}"
    return build


def valid(secret: str, tag: str, text: str, file_key: str, sig: str) -> bool:
    """Whether a prompt request names the sentence its key and signature were made for."""
    return bool(secret) and file_key == key(tag, text) and hmac.compare_digest(
        signature(secret, tag, text), sig)


def path_of(folder: Path, tag: str, text: str) -> Path:
    """Where the audio of `text` in `tag` is kept."""
    return folder / tag / f"{key(tag, text)}.wav"


def synthesizer() -> str | None:
    """The espeak-ng program on this machine, or None."""
    return shutil.which("espeak-ng")


def generate(folder: Path, tag: str, text: str) -> Path:
    """Make the audio of `text` with espeak-ng (kept for next time); PromptMissing when
    there is no synthesizer here or none for the language."""
    target = path_of(folder, tag, text)
    program, voice = synthesizer(), ESPEAK_VOICES.get(tag)
    if program is None or voice is None:
        raise PromptMissing(f"no recording of this {tag} sentence and no espeak-ng voice to "
                            "generate it (apt-get install espeak-ng, or `holdless prompts "
                            "add`)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    subprocess.run([program, "-v", voice, "-w", str(partial), text], check=True,
                   timeout=SYNTH_TIMEOUT_SECONDS, capture_output=True)
    partial.replace(target)
    return target


def audio(folder: Path, tag: str, text: str) -> Path:
    """The audio file of `text` in `tag`: the one recorded or generated before, else one
    generated now (PromptMissing when it cannot be)."""
    found = path_of(folder, tag, text)
    return found if found.exists() else generate(folder, tag, text)


def add(folder: Path, tag: str, text: str, recording: Path) -> Path:
    """Keep `recording` (a WAV file) as the prompt of `text` in `tag`."""
    if recording.read_bytes()[:4] != b"RIFF":
        raise PromptMissing(f"{recording} is not a WAV file (it must start with RIFF)")
    target = path_of(folder, tag, text)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recording, target)
    return target
