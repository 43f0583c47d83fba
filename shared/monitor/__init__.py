"""The stream monitor: due channels → platform fan-out → one write transaction per cycle."""
