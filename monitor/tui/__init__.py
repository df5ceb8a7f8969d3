"""The dashboard (Textual). Only `monitor.cli.dashboard` imports it, lazily."""
