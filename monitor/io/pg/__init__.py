"""The PostgreSQL backend: the store, its search, triage, the alert ledger, the stories,
source leases and work queues, all in one database that many processes share.

Imported only when `[storage] backend = "postgresql"` (`io/backends.py`)."""
