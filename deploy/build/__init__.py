"""Image builds: Dockerfiles from language templates, and the Kaniko Job that builds them in the cluster."""
