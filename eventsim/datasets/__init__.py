"""Dataset loaders and spike encoders: MNIST (idx), FSDD (wav + cochlea front end), SHD (HDF5).

Times are in ms everywhere in the API (SHD files store seconds; ``shd.py`` converts).
Loaders take an explicit path and never download anything.
"""
import os as _os
from .errors import (DatasetError, DatasetFormatError, DatasetNotFoundError, EmptyRecordingError,
                     SampleRateError)
from .idx import read_idx, write_idx
from .mnist import MNIST_SPLITS, latency_encode, load_mnist, poisson_encode
from .audio import add_white_noise, read_wav, snr_db, write_wav  # noqa: I001  (before fsdd: import order)
from .cochlea import (CochleaParams, cochleagram, encode_waveform, envelopes_to_spikes, erb_space,
                      gammatone_envelopes)
from .fsdd import FSDD_SPLITS, EncodedUtterances, FsddFiles, encode_fsdd, load_fsdd
from .shd import DIGIT_KEYS, ShdData, bin_samples, bin_spikes, encode_fsdd_to_shd, read_shd, write_shd

__all__ = ["DatasetError", "DatasetFormatError", "DatasetNotFoundError", "EmptyRecordingError",
           "SampleRateError", "read_idx", "write_idx", "MNIST_SPLITS", "load_mnist", "poisson_encode",
           "latency_encode", "read_wav", "write_wav", "add_white_noise", "snr_db", "CochleaParams",
           "cochleagram", "encode_waveform", "envelopes_to_spikes", "erb_space", "gammatone_envelopes",
           "FSDD_SPLITS", "FsddFiles", "EncodedUtterances", "load_fsdd", "encode_fsdd", "ShdData",
           "read_shd", "write_shd", "bin_spikes", "bin_samples", "encode_fsdd_to_shd", "DIGIT_KEYS"]


def default_data_root() -> str:
    """Where the experiments look for data unless told: $EVENTSIM_DATA, else ../shared/data
    beside the repository that holds this package (the project's layout)."""
    return _os.environ.get("EVENTSIM_DATA") or _os.path.normpath(
        _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "..", "..", "shared", "data"))


__all__.append("default_data_root")
