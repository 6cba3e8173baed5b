"""The desk scene as an MJPEG-over-HTTP stream (``http://127.0.0.1:PORT/stream.mjpg``), the way IP
document cameras and ``mjpg-streamer`` serve it, so any ``cv2.VideoCapture`` (OpenCV's FFmpeg
backend) opens the simulated 高拍仪 exactly like a real networked one."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2

from simulators.desk_scene import DeskScene

BOUNDARY = b"hallkitframe"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}"


def part_header(length: int) -> bytes:
    """What goes before each JPEG of the stream (docs/protocols/camera-stream.md); ``\\r\\n`` after it."""
    return b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n"


class MjpegStream:
    def __init__(self, scene: DeskScene, port: int = 0, quality: int = 85, realtime: bool = True) -> None:
        self.scene = scene
        self.quality = quality
        self.realtime = realtime
        stream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the console quiet
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] not in ("/stream.mjpg", "/"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.end_headers()
                try:
                    while not stream.stopped.is_set():
                        t0 = time.monotonic()
                        frame = stream.scene.read()
                        ok, jpg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, stream.quality])
                        self.wfile.write(part_header(len(jpg)) + jpg.tobytes() + b"\r\n")
                        if stream.realtime:
                            time.sleep(max(0.0, 1.0 / stream.scene.fps - (time.monotonic() - t0)))
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.stopped = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.thread = threading.Thread(target=self.server.serve_forever, name="mjpeg-stream", daemon=True)

    def start(self) -> MjpegStream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()
