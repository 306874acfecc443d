"""Load an image file safely: refuse missing, empty, corrupt, truncated or enormous files.

The size is read from the PNG/JPEG/BMP header before anything is decoded, so a 100,000 x
100,000 "decompression bomb" is refused without allocating its pixels.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from digitedge.errors import DigitEdgeError

DEFAULT_MAX_PIXELS = 50_000_000  # above any phone camera's 48 MP; ~150 MB as BGR
MAX_FILE_BYTES = 256 * 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"
# start-of-frame markers (they hold the size); C4, C8 and CC are other segment types
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment, or None if not found."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG or BMP header; None for other formats."""
    if data.startswith(_PNG_SIGNATURE) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(_JPEG_SOI):
        return _jpeg_size(data)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    return None


def truncation(data: bytes) -> str | None:
    """Why a PNG or JPEG looks cut short, or None when its end marker is present.

    OpenCV decodes a truncated JPEG into a half-gray image with only a warning on stderr,
    so the end markers are checked here: IEND closes every PNG, EOI every JPEG (cameras may
    append a trailer after it, hence the search over the tail).
    """
    if data.startswith(_PNG_SIGNATURE) and b"IEND" not in data[-64:]:
        return "PNG has no IEND chunk"
    if data.startswith(_JPEG_SOI) and _JPEG_EOI not in data[-65536:]:
        return "JPEG has no end-of-image marker"
    return None


def _png_has_alpha(data: bytes) -> bool:
    return data.startswith(_PNG_SIGNATURE) and len(data) > 25 and data[25] in (4, 6)


def _flatten_alpha(image: np.ndarray) -> np.ndarray:
    """Composite a BGRA image over white: transparent areas of a drawing are paper."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 2:  # gray + alpha
        image = np.dstack([image[:, :, 0]] * 3 + [image[:, :, 1]])
    if image.shape[2] == 3:
        return image
    alpha = image[:, :, 3:4].astype(np.float32) / 255.0
    rgb = image[:, :, :3].astype(np.float32)
    return (rgb * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)


def decode_image(data: bytes, name: str = "image",
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes into BGR uint8, with the same checks as `load_image`."""
    if not data:
        raise DigitEdgeError(f"{name} is empty (0 bytes)")
    size = header_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise DigitEdgeError(
            f"{name} is {size[0]}x{size[1]} pixels, above the {max_pixels:,}-pixel limit; "
            "shrink it first")
    reason = truncation(data)
    if reason:
        raise DigitEdgeError(f"{name} is truncated or corrupt ({reason}); re-save or re-copy it")
    buf = np.frombuffer(data, dtype=np.uint8)
    flags = cv2.IMREAD_UNCHANGED if _png_has_alpha(data) else cv2.IMREAD_COLOR
    try:
        image = cv2.imdecode(buf, flags)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise DigitEdgeError(f"{name} is not an image OpenCV can decode (PNG, JPEG, BMP, ...)")
    if image.shape[0] * image.shape[1] > max_pixels:
        raise DigitEdgeError(
            f"{name} is {image.shape[1]}x{image.shape[0]} pixels, above the "
            f"{max_pixels:,}-pixel limit; shrink it first")
    if flags == cv2.IMREAD_UNCHANGED:
        image = _flatten_alpha(image)
    return np.ascontiguousarray(image)


def load_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as BGR uint8 (H, W, 3).

    Args:
        path: a PNG, JPEG, BMP or any other format OpenCV decodes.
        max_pixels: refuse images with more pixels than this (checked before decoding for
            PNG, JPEG and BMP).

    Raises:
        DigitEdgeError: missing file, empty file, not an image, truncated PNG/JPEG, or too
            many pixels.
    """
    path = Path(path)
    if not path.exists():
        raise DigitEdgeError(f"image not found: {path}")
    if not path.is_file():
        raise DigitEdgeError(f"{path} is not a file")
    file_size = path.stat().st_size
    if file_size > MAX_FILE_BYTES:
        raise DigitEdgeError(f"{path} is {file_size:,} bytes, too large for an image to read")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DigitEdgeError(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode_image(data, str(path), max_pixels)
