"""Zarr demo stores and the batch jobs that run over them."""

from samg.pipeline.store import DemoStore, StoreError, StorePlan

__all__ = ["DemoStore", "StoreError", "StorePlan"]
