"""The Kubernetes side of Dockyard: manifests, rollouts, routers, local cluster."""
