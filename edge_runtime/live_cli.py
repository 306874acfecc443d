"""Read digits live from a camera, a Pi camera, a video file or a stream URL.

Each frame goes through the same reader as `digitedge read`; a reading is printed once it has
been identical for --stable-frames frames in a row, and again only when it changes. Watch it
in a window (--display), in a browser (--serve, for headless Pis), or pipe --json-lines.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from digitedge.edge_runtime.manifest import MIN_CONFIDENCE
from digitedge.edge_runtime.read_cli import confidence_arg

log = logging.getLogger(__name__)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value



def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `live` flags."""
    parser.add_argument("--source", type=str, default="0",
                        help="camera index (0), device (/dev/video0), video file, stream URL "
                             "(rtsp://..., http://...) or 'picamera' for the Pi camera module")
    parser.add_argument("--width", type=int, default=None, help="requested capture width")
    parser.add_argument("--height", type=int, default=None, help="requested capture height")
    parser.add_argument("--model", type=str, default=None,
                        help=".tflite file or bundled model name (int8, float32, mlp-int8, "
                             "mlp-float32); omit for the bundled int8 CNN")
    parser.add_argument("--roi", type=str, default=None, metavar="X,Y,W,H",
                        help="read only this rectangle of each frame (pixels)")
    parser.add_argument("--display", action=argparse.BooleanOptionalAction, default=None,
                        help="show a window (needs opencv-python with GUI); default: when a "
                             "GUI and a screen are available")
    parser.add_argument("--serve", type=str, default=None, metavar="HOST:PORT",
                        help="serve the live view, e.g. 127.0.0.1:8080; listen on another "
                             "address (0.0.0.0) only if you mean to expose it")
    parser.add_argument("--json-lines", action="store_true",
                        help="print one JSON object per changed stable reading")
    parser.add_argument("--record", type=Path, default=None, metavar="OUT.mp4",
                        help="save the annotated frames (.mp4 or .avi)")
    parser.add_argument("--max-frames", type=_positive_int, default=None,
                        help="stop after this many processed frames")
    parser.add_argument("--stable-frames", type=_positive_int, default=3,
                        help="consecutive identical readings needed before one is reported")
    parser.add_argument("--min-confidence", type=confidence_arg, default=MIN_CONFIDENCE,
                        help="reject digits the model is less sure of than this")
    parser.add_argument("--work-side", type=int, default=None, metavar="PX",
                        help="shrink frames whose longer side exceeds this before reading "
                        "(default: 1280, and soft frames to 640; as for `read`)")
    parser.add_argument("--loop", action="store_true", help="replay a video file forever")
    parser.add_argument("--realtime", action="store_true",
                        help="play a video file at its frame rate and skip stale frames like "
                             "a camera (default for files: every frame, in order)")
    parser.add_argument("--retry-max", type=float, default=8.0,
                        help="longest wait (s) between reconnect attempts to a lost camera")


def run(args: argparse.Namespace) -> int:
    """Run the live loop until the source ends, --max-frames, Ctrl-C or SIGTERM."""
    from digitedge.edge_runtime.live import LiveConfig, parse_roi, run_live

    cfg = LiveConfig(
        source=args.source, width=args.width, height=args.height, model=args.model,
        roi=parse_roi(args.roi) if args.roi else None, display=args.display, serve=args.serve,
        json_lines=args.json_lines, record=args.record, max_frames=args.max_frames,
        stable_frames=args.stable_frames, min_confidence=args.min_confidence,
        work_side=args.work_side, loop=args.loop,
        realtime=args.realtime, retry_max=max(0.1, args.retry_max))
    summary = run_live(cfg)
    log.info("processed %d frames (%d captured, %d stale dropped), %d readings reported, "
             "%d reconnects", summary.frames, summary.captured, summary.dropped,
             summary.reported, summary.reconnects)
    return 0
