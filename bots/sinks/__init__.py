"""The sink seam: `base` (the interface and SinkError) and `registry` (name → folder). It knows no sink."""
