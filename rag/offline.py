"""Switch off every network habit of the libraries we use, before they are imported."""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # sentence-transformers / transformers never reach a model hub
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "GRADIO_ANALYTICS_ENABLED": "False",  # no usage pings from the UI
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline() -> None:
    """Set the variables above; an explicit value the user already set is overwritten too,
    because an offline tool must not be one environment variable away from phoning home."""
    os.environ.update(OFFLINE_ENVIRONMENT)
