"""Helpers for the test suite: real local servers and guards."""
