"""Alembic migrations of the service."""
