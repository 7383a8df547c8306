"""Reader and writer for the idx format (LeCun's MNIST files), gzip-compressed or plain.

Layout: 2 zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions, then one big-endian uint32 per
dimension, then the data in C order, big-endian.
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from .errors import DatasetFormatError, DatasetNotFoundError

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DatasetNotFoundError(f"idx file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DatasetFormatError(f"{path}: corrupt or truncated gzip stream ({exc})") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read one idx file (gzip detected by content, not by name) into a native-endian array."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetFormatError(f"{path}: {len(data)} bytes, shorter than the 4-byte idx header")
    if data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise DatasetFormatError(
            f"{path}: bad idx magic number 0x{data[:4].hex()}: expected 0x0000TTNN with type code TT in "
            f"{{{', '.join(f'{k:02x}' for k in IDX_DTYPES)}}} and NN dimensions")
    dtype, ndim = IDX_DTYPES[data[2]], data[3]
    if ndim == 0:
        raise DatasetFormatError(f"{path}: idx header says 0 dimensions: allowed range is [1, 255]")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetFormatError(f"{path}: truncated idx header: {len(data)} bytes, header needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    expected = math.prod(shape) * dtype.itemsize  # Python ints: np.prod(int64) can wrap to 0
    got = len(data) - header
    if got < expected:
        raise DatasetFormatError(
            f"{path}: truncated idx data: shape {shape} needs {expected} bytes, file holds {got}")
    if got > expected:
        raise DatasetFormatError(
            f"{path}: {got - expected} trailing bytes after idx data of shape {shape}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` in idx format; gzip-compressed when the name ends with ``.gz``."""
    path = Path(path)
    arr = np.asarray(array)
    codes = {v.newbyteorder("=") if v.itemsize > 1 else v: k for k, v in IDX_DTYPES.items()}
    native = arr.dtype.newbyteorder("=")
    if native not in codes:
        raise DatasetFormatError(f"{path}: dtype {arr.dtype} cannot be stored in idx: allowed "
                                 "uint8, int8, int16, int32, float32, float64")
    if not 1 <= arr.ndim <= 255:
        raise DatasetFormatError(f"{path}: array.ndim = {arr.ndim}: allowed range is [1, 255]")
    code = codes[native]
    blob = (bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
            + np.ascontiguousarray(arr, IDX_DTYPES[code]).tobytes())
    if path.name.endswith(".gz"):
        blob = gzip.compress(blob, compresslevel=9, mtime=0)
    path.write_bytes(blob)
