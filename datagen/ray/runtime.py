"""Starting or reaching Ray, once a process: `--executor ray` with no address starts a local Ray on
loopback; with `--ray_address` it joins that cluster. Optional extra: datagen[ray].

    ray = init_ray("")          # the `ray` module, initialised
"""
from __future__ import annotations

from datagen.errors import DatagenError
from datagen.extras import require


def require_ray():
    return require("--executor ray", "ray")[0]


# Ray returns objects under 100 KB inline to their owner: the driver kept the dedup's small pieces (pair
# lists, edge pieces, verdicts; ~16,000 at 10 M records) in its own memory. Above 1 KB they go to the
# object store instead (benchmarks/scale.md: 191 -> 147 MB driver peak at 1 M). A cluster started with
# `ray start` takes the same setting from RAY_max_direct_call_object_size=1024 on its nodes.
LOCAL_SYSTEM_CONFIG = {"max_direct_call_object_size": 1024}


def init_ray(address: str = "", num_cpus: int | None = None):
    """Connect to `address`, or start a local Ray for this process (num_cpus caps it)."""
    ray = require_ray()
    if not ray.is_initialized():
        kwargs = dict(log_to_driver=False, include_dashboard=False, configure_logging=False)
        try:
            if address:
                ray.init(address=address, **{k: v for k, v in kwargs.items() if k != "include_dashboard"})
            else:  # a local Ray stays on loopback
                ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", _system_config=LOCAL_SYSTEM_CONFIG,
                         **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DatagenError(f"cannot start or reach Ray at {address or 'local'}: {exc}") from None
    return ray
