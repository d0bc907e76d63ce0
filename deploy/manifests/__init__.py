"""Manifests for running Dockyard itself in a cluster."""
