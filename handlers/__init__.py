"""Inbound HTTP: one module per source; each authenticates, validates, dedupes, enqueues."""
