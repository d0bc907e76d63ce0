"""The console channel: `./dockyard chat` in, replies and a feed out (what `make run` prints)."""
