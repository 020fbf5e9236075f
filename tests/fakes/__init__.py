"""Fakes that tests run for real: servers on loopback, clocks."""
