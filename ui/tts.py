"""Spoken announcements and prompts through espeak-ng when it is installed; silent otherwise.

``Speaker.say(text, lang)`` queues the text and returns at once; one thread speaks one utterance at
a time, newest prompts first dropped when the queue is full (a hall display must never lag behind
its calls). Set ``HALLKIT_TTS=off`` to silence it (tests, screenshots, benchmarks).
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import threading
from typing import Any

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn", "en": "en"}


def spoken_text(view: dict[str, Any]) -> str:
    """What elder mode reads aloud of a kiosk view: the issued ticket, else the message or prompt."""
    if view.get("ticket"):
        return f"{view['ticket']['code']}。{view['ticket']['ahead_text']}"
    return str(view.get("message") or view.get("prompt") or view.get("welcome") or "")


class Speaker:
    """``out_dir``: write each utterance as a WAV file there instead of playing it (tests, or a
    display PC that plays announcements through another path)."""

    def __init__(self, enabled: bool | None = None, rate_wpm: int = 150, out_dir: str | None = None) -> None:
        self.binary = shutil.which("espeak-ng") or shutil.which("espeak")
        if enabled is None:
            enabled = os.environ.get("HALLKIT_TTS", "on").lower() not in ("off", "0", "no")
        self.enabled = bool(enabled and self.binary)
        self.rate_wpm = rate_wpm
        self.out_dir = out_dir
        self.files: list[str] = []
        self._done = threading.Condition()
        self.spoken: list[tuple[str, str]] = []  # (lang, text) of what was handed to the engine, newest last
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=8)
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return self.enabled

    def say(self, text: str, lang: str = "zh") -> bool:
        """Queue ``text``; False when silent (no engine, disabled) or the queue is full."""
        if not self.enabled or not text.strip():
            return False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tts", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((lang, text))
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            lang, text = item
            cmd = [str(self.binary), "-v", VOICES.get(lang, "cmn"), "-s", str(self.rate_wpm)]
            wav = None
            if self.out_dir:
                os.makedirs(self.out_dir, exist_ok=True)
                wav = os.path.join(self.out_dir, f"say-{len(self.spoken) + 1:04d}.wav")
                cmd += ["-w", wav]
            try:
                rc = subprocess.run(
                    cmd + [text], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False
                ).returncode
                if rc != 0:
                    log.info("tts: %s exited with %s", self.binary, rc)
            except (OSError, subprocess.SubprocessError) as exc:
                log.info("tts: %s", exc)
            with self._done:
                self.spoken.append((lang, text))
                if wav and os.path.exists(wav):
                    self.files.append(wav)
                self._done.notify_all()

    def wait_spoken(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``count`` utterances went through the engine (tests)."""
        with self._done:
            return self._done.wait_for(lambda: len(self.spoken) >= count, timeout)

    def close(self) -> None:
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass
