"""``hallkit scan decode|crop|session``: the document camera pipeline from the command line."""

from __future__ import annotations

import argparse
import sys


def register(cli) -> None:
    cli.describe(("scan",), "document camera (高拍仪): decode codes, crop pages, run a scanning session")
    p = cli.command(("scan", "decode"), help="decode barcodes/QR codes in images (one line per image)", handler=decode)
    p.add_argument("images", nargs="+")
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


def _read(path: str):
    import cv2

    img = cv2.imread(path)
    if img is None:
        raise SystemExit(print(f"hallkit scan: cannot read image {path}", file=sys.stderr) or 2)
    return img


def decode(args: argparse.Namespace) -> int:
    from devices.scanner.decode import decode_image

    for path in args.images:
        found = decode_image(_read(path))
        texts = " | ".join(f"{d.text} [{d.format}, {d.decoder}]" for d in found) if found else "NONE"
        print(f"{path}: {texts}")
    return 0


def crop(args: argparse.Namespace) -> int:
    import cv2

    from devices.scanner import pipeline

    out = pipeline.process(_read(args.image), whiten_background=args.whiten)
    if out is None:
        print(f"hallkit scan crop: no page found in {args.image}", file=sys.stderr)
        return 1
    page, det = out
    cv2.imwrite(args.out, page)
    print(f"{args.out}: {page.shape[1]}x{page.shape[0]}, corners {det.corners.round(1).tolist()}")
    return 0


def session(args: argparse.Namespace) -> int:
    from devices.base import DeviceError
    from devices.scanner.device import scan_to_dir

    try:
        result = scan_to_dir(args.url, args.out, args.pages, args.still_s, args.timeout, args.profile)
    except DeviceError as exc:
        print(f"hallkit scan session: {exc}", file=sys.stderr)
        return 1
    if result is None:
        print("hallkit scan session: no page captured before the timeout", file=sys.stderr)
        return 1
    print(f"{len(result.pages)} pages -> {result.pdf}")
    for p in result.pages:
        print(f"  {p}")
    if result.codes:
        print("codes: " + ", ".join(result.codes))
    return 0
