"""``hallkit scan decode|crop|session``: the document camera pipeline from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hall_bus.cli.common import fail, reporting
from hall_bus.cli.main import CommandLine


def register(cli: CommandLine) -> None:
    cli.describe(("scan",), "document camera (高拍仪): decode codes, crop pages, run a scanning session")
    p = cli.command(
        ("scan", "decode"),
        help="decode barcodes/QR codes in images (one line per image)",
        handler=decode,
        description="Decode the codes in each image. Plain output is one line per image, "
        "'FILE: TEXT [FORMAT, DECODER] | ...' (NONE when nothing is found), with backslash, '|' and control "
        "characters escaped (\\n, \\r, \\t, \\xNN); --json prints one JSON object per image and line: "
        '{"file", "texts": [{"text", "format", "decoder", "hex"}]}. Texts are the payloads as encoded '
        "(a GS1 code keeps its GS separators, no (01) brackets).",
    )
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON object per image (JSON Lines)")
    p = cli.command(("scan", "crop"), help="write the perspective-corrected page of an image", handler=crop)
    p.add_argument("image")
    p.add_argument("-o", "--out", required=True, help="output JPEG")
    p.add_argument("--whiten", action="store_true", help="whiten the paper's background")
    p = cli.command(
        ("scan", "session"), help="auto-capture pages from a live source into a PDF and JPEGs", handler=session
    )
    p.add_argument("--url", required=True, help="sim://scanner, a device index, /dev/video0, or http://…/stream.mjpg")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--pages", type=int, default=2)
    p.add_argument("--still-s", type=float, default=1.0, help="seconds the page must lie still (default 1)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--profile", default="generic-5mp")


def _read(path: str) -> Any:
    import cv2

    img = cv2.imread(path)
    if img is None:
        raise SystemExit(fail(f"cannot read image {path}", 2, "scan"))
    return img


def escape(text: str) -> str:
    """A payload on one line: backslash, '|' and control characters escaped."""
    out = []
    for ch in text:
        if ch in "\\|":
            out.append("\\" + ch)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def decode(args: argparse.Namespace) -> int:
    from devices.scanner.decode import decode_image  # OpenCV

    for path in args.images:
        found = decode_image(_read(path))
        if args.json:
            texts = [{"text": d.text, "format": d.format, "decoder": d.decoder, "hex": d.raw.hex()} for d in found]
            print(json.dumps({"file": path, "texts": texts}, ensure_ascii=False), flush=True)
            continue
        texts_line = " | ".join(f"{escape(d.text)} [{d.format}, {d.decoder}]" for d in found) if found else "NONE"
        print(f"{path}: {texts_line}", flush=True)
    return 0


def crop(args: argparse.Namespace) -> int:
    import cv2

    from devices.scanner import pipeline  # OpenCV

    out = pipeline.process(_read(args.image), whiten_background=args.whiten)
    if out is None:
        return fail(f"no page found in {args.image}", 1, "scan crop")
    page, det = out
    cv2.imwrite(args.out, page)
    print(f"{args.out}: {page.shape[1]}x{page.shape[0]}, corners {det.corners.round(1).tolist()}")
    return 0


def session(args: argparse.Namespace) -> int:
    from devices.scanner.device import scan_to_dir  # OpenCV, img2pdf

    with reporting("scan session"):
        result = scan_to_dir(args.url, args.out, args.pages, args.still_s, args.timeout, args.profile)
    if result is None:
        return fail("no page captured before the timeout", 1, "scan session")
    print(f"{len(result.pages)} pages -> {result.pdf}")
    for p in result.pages:
        print(f"  {p}")
    if result.codes:
        print("codes: " + " | ".join(escape(code) for code in result.codes))
    return 0
