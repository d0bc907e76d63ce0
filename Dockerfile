# Dockyard itself: one image, every Procfile process. The Helm chart (deploy/helm/dockyard) runs each
# process with its Procfile command; `docker run IMAGE` alone starts web.
#
#   docker build -t <your registry>/dockyard:<tag> .
#
# The base is pinned by its full tag (the Python the tests run on); pin its digest in your registry too.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8080 \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app

# The project's own pins: requirements.txt under constraints.txt, in a virtualenv at .venv, where
# ./dockyard looks for it. A layer of its own, so a code change does not reinstall the packages.
COPY requirements.txt constraints.txt ./
RUN python -m venv /app/.venv \
    && /app/.venv/bin/pip install --no-compile -r requirements.txt -c constraints.txt

COPY . .

# Non-root, with no write access to its own code: the chart also mounts the root filesystem read-only.
RUN groupadd --system --gid 10001 dockyard \
    && useradd --system --uid 10001 --gid dockyard --home-dir /app --no-create-home dockyard \
    && chmod 0755 /app/dockyard
USER 10001:10001

EXPOSE 8080

# The Procfile's processes (the chart sets these as each Deployment's command):
#   web:       gunicorn --config gunicorn.conf.py 'handlers.app:create_app()'
#   worker:    ./dockyard worker --queues commands,rollouts,builds
#   notifier:  ./dockyard worker --queues notify --no-fork
#   watcher:   ./dockyard watcher
#   scheduler: ./dockyard scheduler
CMD ["gunicorn", "--config", "gunicorn.conf.py", "handlers.app:create_app()"]
