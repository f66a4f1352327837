"""Mixed precision for training: the Keras dtype policy a precision setting gives on this machine. The network
trains as a copy computing under that policy (training.models.dtype.with_policy); weights stay float32 under
every policy, and model files are always written in float32 (training.models.dtype.in_float32).

``auto`` trains in ``mixed_bfloat16`` where the CPU computes bfloat16 natively (the detection classify uses,
:func:`training.host.devices.native_bfloat16`), in ``mixed_float16`` with loss scaling where TensorFlow sees a GPU,
and in float32 elsewhere.
"""
from __future__ import annotations

from ..config import PRECISIONS
from ..errors import GeoSegError
from ..host.devices import gpu_visible, native_bfloat16

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def training_policy(precision: str) -> str:
    """The Keras dtype policy for ``precision`` (one of :data:`~training.config.PRECISIONS`) on this machine."""
    if precision not in PRECISIONS:
        raise GeoSegError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        precision = "float16" if gpu_visible() else "bfloat16" if native_bfloat16() else "float32"
    return POLICIES[precision]
