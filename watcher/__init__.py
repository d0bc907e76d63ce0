"""The watcher process: Kubernetes watches in, findings to the incident jobs out."""
