"""Seed system module (being written this session)."""
