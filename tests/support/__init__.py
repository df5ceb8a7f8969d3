"""What several test modules share: builders, fakes and loopback servers. Pytest fixtures
live in tests/conftest.py; test modules import helpers from here, never from each other."""
