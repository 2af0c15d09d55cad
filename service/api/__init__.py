"""The HTTP API under ``/api/v1`` (routes thin; dependencies in ``deps``)."""
