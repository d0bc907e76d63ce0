"""Dockyard's Helm chart (deploy/helm/dockyard) and the generator of its RBAC table."""
