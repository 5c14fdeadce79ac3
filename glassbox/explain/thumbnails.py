"""Small thumbnails of the explained images, for a report to draw their heat maps over.

A thumbnail is the image shrunk (area average) to at most THUMBNAIL_SIZE pixels on its long side
(never enlarged), as uint8 grey (one channel) or RGB (three; an alpha channel dropped). Pixels of
encoded images (0..255) are kept as they are; a float image input's values, whatever their range,
are stretched per image to 0..255.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

THUMBNAIL_SIZE = 64


def thumbnail_shape(height: int, width: int) -> tuple:
    """(height, width) of the thumbnail of an image of that size."""
    scale = min(1.0, THUMBNAIL_SIZE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def thumbnails(images: np.ndarray, encoded: bool) -> np.ndarray:
    """(n, th, tw, 1 or 3) uint8 thumbnails of images (n, h, w, c) (see the module)."""
    n, height, width, channels = images.shape
    pixels = images[..., :3] if channels >= 3 else images[..., :1]
    if not encoded:
        low = pixels.min(axis=(1, 2, 3), keepdims=True)
        spread = pixels.max(axis=(1, 2, 3), keepdims=True) - low
        pixels = (pixels - low) * (255 / np.where(spread > 0, spread, 1))
    size = thumbnail_shape(height, width)
    if size != (height, width):
        pixels = tf.image.resize(pixels.astype(np.float32), size, method="area").numpy()
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)
