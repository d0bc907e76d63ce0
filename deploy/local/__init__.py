"""The local Kubernetes control plane used by `make run` and the test suite."""
