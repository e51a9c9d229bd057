"""The HTTP service: signing API for agencies, public verification, manifests, the page."""

from .app import create_app

__all__ = ["create_app"]
