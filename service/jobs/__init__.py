"""Signing jobs (videos): Dramatiq on Valkey, durable, run by any free worker."""

from .engine import Full, JobEngine
from .table import Job

__all__ = ["Full", "Job", "JobEngine"]
