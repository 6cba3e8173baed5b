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

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn", "en": "en"}


class Speaker:
    def __init__(self, enabled: bool | None = None, rate_wpm: int = 150) -> None:
        self.binary = shutil.which("espeak-ng") or shutil.which("espeak")
        if enabled is None:
            enabled = os.environ.get("HALLKIT_TTS", "on").lower() not in ("off", "0", "no")
        self.enabled = bool(enabled and self.binary)
        self.rate_wpm = rate_wpm
        self.spoken: list[tuple[str, str]] = []  # (lang, text) of what was handed to the engine, newest last
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=8)
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return self.enabled

    def say(self, text: str, lang: str = "zh", slow: bool = False) -> bool:
        """Queue ``text``; False when silent (no engine, disabled) or the queue is full."""
        if not self.enabled or not text.strip():
            return False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tts", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((lang, text if not slow else text))
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            lang, text = item
            cmd = [self.binary, "-v", VOICES.get(lang, "cmn"), "-s", str(self.rate_wpm), text]
            try:
                subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False)
                self.spoken.append((lang, text))
            except (OSError, subprocess.SubprocessError) as exc:
                log.info("tts: %s", exc)

    def close(self) -> None:
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass
