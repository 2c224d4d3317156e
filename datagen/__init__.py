"""datagen: instruction-tuning data from seed tasks (Self-Instruct, Evol-Instruct, SELF-ALIGN)."""
from datagen.record import Lineage, Record

__all__ = ["Lineage", "Record"]
__version__ = "0.1.0"
