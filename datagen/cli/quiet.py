"""Library noise a user cannot act on, off for the commands that load models (train, sample, eval):
datasets' per-map progress bars ("Tokenizing eval dataset: 100%" once per held-out row), transformers'
weight loading/writing bars ("Loading weights: 100%", once per model load), and
deprecation or no-GPU warnings from transformers and torch. The trainer's own step log stays, and
DATAGEN_LIBRARY_LOGS=1 brings everything back.

    quiet_libraries()  # before importing torch / transformers / datasets
"""
from __future__ import annotations

import os
import warnings

# (category, message regex): each is about the libraries' internals, not about the user's run.
SILENCED = (
    (FutureWarning, r".*is deprecated and will be removed"),
    (UserWarning, r".*'pin_memory' argument is set as true but no accelerator is found"),
    (UserWarning, r".*`torch_dtype` is deprecated"),
)


def quiet_libraries() -> None:
    if os.environ.get("DATAGEN_LIBRARY_LOGS") == "1":
        return
    for category, message in SILENCED:
        warnings.filterwarnings("ignore", message=message, category=category)
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read by transformers' own tqdm
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:  # the train extra is not installed: nothing to quiet
        pass
