"""The dashboard (Textual). Only `monitor.cli.cmd_dashboard` imports it, lazily."""
