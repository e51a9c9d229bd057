"""Signing jobs (videos): Dramatiq on Valkey, durable, run by any free worker."""

from .engine import Full, JobEngine
from .table import Batch, Job

__all__ = ["Batch", "Full", "Job", "JobEngine"]
